// `psrec export`: a saved model's tables as NumPy .npy files.
#ifndef PSREC_CLI_EXPORT_H_
#define PSREC_CLI_EXPORT_H_

#include "cli/options.h"

namespace psrec {

// Exit code 0, or 1 when the model cannot be read or a file not written.
int RunExport(const ExportOptions& options);

}  // namespace psrec

#endif  // PSREC_CLI_EXPORT_H_
