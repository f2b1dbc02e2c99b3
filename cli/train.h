// `psrec train`: a whole local cluster (coordinator, servers, workers as
// separate processes on loopback), evaluation after every epoch, metrics and
// the model at the end.
#ifndef PSREC_CLI_TRAIN_H_
#define PSREC_CLI_TRAIN_H_

#include <string>
#include <vector>

#include "cli/options.h"

namespace psrec {

// `user_flags` are the command line's flags, passed on to the coordinator so
// that every process runs with the same settings. Returns the exit code.
int RunTrain(TrainOptions options, const std::vector<std::string>& user_flags);

}  // namespace psrec

#endif  // PSREC_CLI_TRAIN_H_
