// Options of the driver-side subcommands (train, gen, eval, recommend, export), built from
// flags by cli/flags.cc.
#ifndef PSREC_CLI_OPTIONS_H_
#define PSREC_CLI_OPTIONS_H_

#include <cstdint>
#include <string>

#include "cli/progress_line.h"
#include "absl/time/time.h"
#include "common/data_reader.h"
#include "common/rpc_options.h"
#include "proto/psrec.pb.h"

namespace psrec {

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
  std::string report_dir;  // report.html goes here; empty: no report
  int metrics_port = 0;     // the coordinator's; servers and workers get 0 (or -1: none)
  ProgressStyle progress = ProgressStyle::kPlainLines;
  absl::Duration progress_interval = absl::Seconds(10);
  RpcOptions rpc;  // the driver's own channels; handed on to servers and workers
  // Durability: "" = RUN_DIR/checkpoints; resume_dir: the --run_dir of a
  // stopped run to continue.
  std::string checkpoint_dir;
  std::string resume_dir;
  bool checkpoints_off = false;   // --checkpoint_every=off
  bool checkpoint_rounds = true;  // rounds will run (asp, no replicas, servers)
  uint32_t max_restarts = 3;  // per child killed by a signal
  // neumf: --model_out directories of a gmf and an mlp model to start from.
  std::string init_gmf, init_mlp;
};

struct GenOptions {
  std::string out_dir;
  bool implicit = true;
  uint64_t users = 0, items = 0, per_user = 0;
  int rank = 8;        // planted factor rank
  double noise = 0.3;  // std of the explicit ratings' noise
  uint64_t seed = 0;
};

struct EvalOptions {
  std::string model_dir;
  std::string test_path;
  std::string test_negatives_path;
  std::string metrics_json;
};

struct RecommendOptions {
  std::string model_dir;
  // Exactly one of: one user (printed as item<TAB>score[<TAB>title]) or a
  // file of user ids (printed as TSV with a header).
  bool has_user = false;
  uint64_t user = 0;
  std::string users_path;
  uint32_t k = 10;
  std::string exclude_path;  // interactions whose items are not recommended again
  ReaderOptions exclude_reader;
  std::string items_path;  // item titles (u.item, movies.dat, movies.csv)
};

struct HealthOptions {
  std::string target;   // HOST:PORT of any psrec role
  std::string service;  // "" = the whole process
  absl::Duration probe_timeout = absl::Seconds(2);  // per check
  absl::Duration wait = absl::ZeroDuration();       // keep asking until SERVING this long
  RpcOptions rpc;
};

struct StatusOptions {
  std::string coordinator;  // HOST:PORT
  bool json = false;
  absl::Duration timeout = absl::Seconds(2);  // per call
  RpcOptions rpc;
};

struct ExportOptions {
  std::string model_dir;
  std::string out_dir;
};

}  // namespace psrec

#endif  // PSREC_CLI_OPTIONS_H_
