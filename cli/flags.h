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

namespace psrec {

// The run's configuration from the data, model and optimizer flags, with the
// model's defaults for whatever was left unset. No dataset facts yet.
absl::StatusOr<rpc::RunConfig> RunConfigFromFlags();

absl::StatusOr<ServerOptions> ServerOptionsFromFlags();
absl::StatusOr<WorkerOptions> WorkerOptionsFromFlags();
absl::StatusOr<CoordinatorOptions> CoordinatorOptionsFromFlags();

struct TrainOptions {
  rpc::RunConfig config;
  uint32_t servers = 2;
  uint32_t workers = 2;
  std::string test_path;
  std::string test_negatives_path;
  std::string metrics_json;
  std::string model_out;
  std::string run_dir;  // synthetic data and scratch files
  std::string log_level;
  absl::Duration startup_timeout;
};
absl::StatusOr<TrainOptions> TrainOptionsFromFlags();

struct GenOptions {
  std::string out_dir;
  bool implicit = true;
  uint64_t users = 0, items = 0, per_user = 0;
  uint64_t seed = 0;
};
absl::StatusOr<GenOptions> GenOptionsFromFlags();

struct EvalOptions {
  std::string model_dir;
  std::string test_path;
  std::string test_negatives_path;
  std::string metrics_json;
};
absl::StatusOr<EvalOptions> EvalOptionsFromFlags();

std::string LogLevelFlag();

// Rewrites "--some-flag[=v]" to "--some_flag[=v]" so that flags may be spelled
// with dashes (as the README does) or underscores (as Abseil defines them).
void NormalizeFlagSpelling(std::vector<std::string>* args);

}  // namespace psrec

#endif  // PSREC_CLI_FLAGS_H_
