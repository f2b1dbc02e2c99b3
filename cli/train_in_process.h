// `psrec train --servers=0`: the run in this one process. The tables and the
// optimizer are a server's (ShardState), the workers are threads training
// --model=mf lock-free on them (worker/hogwild_mf.h); no coordinator, no
// network. Evaluation, progress, --metrics_json and --model_out as in the
// distributed run.
#ifndef PSREC_CLI_TRAIN_IN_PROCESS_H_
#define PSREC_CLI_TRAIN_IN_PROCESS_H_

#include "cli/options.h"
#include "cli/test_set.h"

namespace psrec {

// `test` is the run's test set (may be empty). Returns the exit code.
int RunTrainInProcess(const TrainOptions& options, const TestSet& test);

}  // namespace psrec

#endif  // PSREC_CLI_TRAIN_IN_PROCESS_H_
