// Every psrec flag lives here (one binary, one flag namespace) and is turned
// into one options struct per role. Library code never reads flags.
#ifndef PSREC_CLI_FLAGS_H_
#define PSREC_CLI_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/coordinator_main.h"
#include "proto/psrec.pb.h"
#include "server/server_main.h"
#include "worker/worker_main.h"
#include "cli/options.h"

namespace psrec {

// The run's configuration from the data, model and optimizer flags, with the
// model's defaults for whatever was left unset. No dataset facts yet.
absl::StatusOr<rpc::RunConfig> RunConfigFromFlags();

absl::StatusOr<ServerOptions> ServerOptionsFromFlags();
absl::StatusOr<WorkerOptions> WorkerOptionsFromFlags();
absl::StatusOr<CoordinatorOptions> CoordinatorOptionsFromFlags();

absl::StatusOr<TrainOptions> TrainOptionsFromFlags();

absl::StatusOr<GenOptions> GenOptionsFromFlags();

absl::StatusOr<EvalOptions> EvalOptionsFromFlags();

absl::StatusOr<RecommendOptions> RecommendOptionsFromFlags();

absl::StatusOr<ExportOptions> ExportOptionsFromFlags();

absl::StatusOr<HealthOptions> HealthOptionsFromFlags();

absl::StatusOr<StatusOptions> StatusOptionsFromFlags();

std::string LogLevelFlag();

// Rewrites "--some-flag[=v]" to "--some_flag[=v]" so that flags may be spelled
// with dashes (as the README does) or underscores (as Abseil defines them).
void NormalizeFlagSpelling(std::vector<std::string>* args);

}  // namespace psrec

#endif  // PSREC_CLI_FLAGS_H_
