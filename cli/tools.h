// The small subcommands: `psrec gen` and `psrec eval`.
#ifndef PSREC_CLI_TOOLS_H_
#define PSREC_CLI_TOOLS_H_

#include "cli/options.h"

namespace psrec {

int RunGen(const GenOptions& options);
int RunEval(const EvalOptions& options);

}  // namespace psrec

#endif  // PSREC_CLI_TOOLS_H_
