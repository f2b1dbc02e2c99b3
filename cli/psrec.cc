// psrec: one binary, one subcommand per role.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "cli/cluster_status.h"
#include "cli/export.h"
#include "cli/flagfile.h"
#include "cli/flags.h"
#include "cli/health_probe.h"
#include "cli/recommend.h"
#include "cli/role_flags.h"
#include "cli/tools.h"
#include "cli/train.h"
#include "common/logging.h"
#include "common/malloc_tuning.h"

namespace {

constexpr char kUsage[] = R"(psrec: a parameter-server trainer for recommendation models.

usage: psrec ROLE [--flag=value ...]

roles:
  train        start a local cluster (coordinator, servers, workers as processes),
               train, evaluate after every epoch, write metrics and the model
  coordinator  membership, shard map, data-shard leases and progress of a run
  server       one parameter-server shard (needs --coordinator)
  worker       leases data shards and trains on them (needs --coordinator)
  eval         evaluate a saved model (--model_dir) on test files
  recommend    top-K items of a saved model for a user (--user) or users (--users)
  export       a saved model's embeddings as NumPy .npy files (--out=DIR)
  gen          write psrec's synthetic data set (--out=DIR)
  health       probe a running role's gRPC health (--target=HOST:PORT): exit 0 when SERVING
  status       a running cluster (--coordinator=HOST:PORT): servers, workers, progress

examples:
  psrec train                                   # synthetic data, gmf, 2 servers + 2 workers
  psrec train --train=ml-100k-loo/train.rating --test_negatives=ml-100k-loo/test.negative
  psrec train --model=mf --train=ml-100k/u1.base --test=ml-100k/u1.test
  psrec recommend --model_dir=M --user=42 --k=10 --exclude=ml-100k/u.data --items=ml-100k/u.item
  psrec export --model_dir=M --out=M-npy

Flags may be written --batch-size or --batch_size. --flagfile=FILE reads flags from FILE, one
--name=value per line ('#' starts a comment line). `psrec ROLE --help` lists the flags ROLE
reads, with their defaults; `psrec ROLE --helpfull` lists every flag of the binary.
)";

constexpr char kRecommendUsage[] = R"(psrec recommend: the top-K items of a saved model.

usage: psrec recommend --model_dir=DIR (--user=ID | --users=FILE) [--k=10]
                       [--exclude=TRAIN_FILE] [--items=ITEM_FILE]

  --model_dir=DIR      a model directory written by --model_out
  --user=ID            one user: prints K lines item<TAB>score[<TAB>title], best first
  --users=FILE         user ids, one per line: prints TSV with the header
                       user<TAB>rank<TAB>item<TAB>score[<TAB>title]
  --k=N                items per user (default 10)
  --exclude=FILE       interactions (any --train format) whose items are not recommended to
                       their user again, e.g. the training file; --format, --delimiter,
                       --header and --user_col/--item_col/... say how to read it
  --items=FILE         titles: MovieLens u.item (id|title|..., latin-1), movies.dat
                       (id::title::genres), movies.csv (header, quoted titles), or id<DELIM>title

Candidates are every item with a row in the model. The score is the model's: the logit for
ranking models, the predicted rating (unclipped) for rating models; ties rank the smaller id
first. A user without a row in the model (never seen in training) is an error (exit 1); with
--users such users are reported on stderr and skipped, the others are written, and the exit
code is 1.
)";

constexpr char kExportUsage[] = R"(psrec export: a saved model as NumPy .npy files.

usage: psrec export --model_dir=DIR --out=OUTDIR [--format=npy]

Writes into OUTDIR, rows sorted by id:
  user_embeddings.npy, item_embeddings.npy   float32 '<f4', shape (rows, dim), C order
  user_ids.npy, item_ids.npy                 int64 '<i8' ('<u8' if an id needs 64 bits)
  NAME.npy                                   each dense table (e.g. output), shape (dim,)
  export.json                                model type, tables, files and what the columns
                                             of a row are (mf rows are [bias, factors...])
--format accepts npy (auto means npy).
)";

// The first lines of `psrec ROLE --help`, before the role's flags.
std::string RoleIntro(const std::string& role) {
  if (role == "recommend") return kRecommendUsage;
  if (role == "export") return kExportUsage;
  if (role == "train") {
    return "psrec train: start a local cluster (coordinator, servers, workers as processes),\n"
           "train, evaluate after every epoch, write metrics and the model.\n\n"
           "usage: psrec train [--train=FILE (--test_negatives=FILE | --test=FILE)] [--flag=value ...]\n";
  }
  if (role == "coordinator") {
    return "psrec coordinator: membership, shard map, data-shard leases and progress of a run.\n\n"
           "usage: psrec coordinator --train=FILE [--servers=N] [--port=P] [model flags ...]\n";
  }
  if (role == "server") {
    return "psrec server: one parameter-server shard.\n\n"
           "usage: psrec server --coordinator=HOST:PORT [--port=P]\n";
  }
  if (role == "worker") {
    return "psrec worker: leases data shards and trains on them.\n\n"
           "usage: psrec worker --coordinator=HOST:PORT\n";
  }
  if (role == "eval") {
    return "psrec eval: evaluate a saved model.\n\n"
           "usage: psrec eval --model_dir=DIR (--test_negatives=FILE | --test=FILE)\n";
  }
  if (role == "gen") {
    return "psrec gen: write psrec's synthetic data set.\n\nusage: psrec gen --out=DIR\n";
  }
  if (role == "health") {
    return "psrec health: probe a running role's gRPC health; exit 0 when SERVING.\n\n"
           "usage: psrec health --target=HOST:PORT [--wait_seconds=S]\n";
  }
  if (role == "status") {
    return "psrec status: a running cluster: roles, addresses, health, ring shares, rows and\n"
           "memory per server, leases and progress per worker, throughput.\n\n"
           "usage: psrec status --coordinator=HOST:PORT [--json]\n";
  }
  return "";
}

bool IsHelp(const char* a) {
  return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0 ||
         std::strcmp(a, "help") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  psrec::TuneMallocForBulkMessages();
  // Debian's Abseil is built with Mutex deadlock detection on: every lock
  // updated a global lock-order graph (GraphCycles was 4% of a server's and
  // 2.5% of a worker's CPU in training). Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(kUsage);
  if (argc < 2 || IsHelp(argv[1])) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string role = argv[1];
  if (const std::string intro = RoleIntro(role); !intro.empty()) {
    for (int i = 2; i < argc; ++i) {
      if (IsHelp(argv[i])) {
        std::fputs(intro.c_str(), stdout);
        std::fputs(psrec::RoleFlagsHelp(role).c_str(), stdout);
        return 0;
      }
    }
  }
  std::vector<std::string> given = {argv[0]};
  for (int i = 2; i < argc; ++i) given.emplace_back(argv[i]);
  auto expanded = psrec::ExpandFlagfiles(given);
  if (!expanded.ok()) {
    std::fprintf(stderr, "psrec %s: %s\n", role.c_str(),
                 std::string(expanded.status().message()).c_str());
    return 2;
  }
  std::vector<std::string> args = std::move(*expanded);
  psrec::NormalizeFlagSpelling(&args);
  if (auto s = psrec::CheckFlagArgs(role, args); !s.ok()) {
    std::fprintf(stderr, "psrec %s: %s\n", role.c_str(), std::string(s.message()).c_str());
    return 2;
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(cargs.size()), cargs.data());
  if (positional.size() > 1) {
    std::fprintf(stderr, "psrec %s: unexpected argument '%s' (flags are --name=value)\n",
                 role.c_str(), positional[1]);
    return 2;
  }
  if (auto s = psrec::InitLogging(role, psrec::LogLevelFlag()); !s.ok()) {
    std::fprintf(stderr, "psrec: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  auto usage_error = [&](const absl::Status& s) {
    std::fprintf(stderr, "psrec %s: %s\n", role.c_str(), std::string(s.message()).c_str());
    return 2;
  };
  if (role == "train") {
    auto o = psrec::TrainOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    std::vector<std::string> user_flags(args.begin() + 1, args.end());
    return psrec::RunTrain(std::move(*o), user_flags);
  }
  if (role == "coordinator") {
    auto o = psrec::CoordinatorOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunCoordinator(*o);
  }
  if (role == "server") {
    auto o = psrec::ServerOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunServer(*o);
  }
  if (role == "worker") {
    auto o = psrec::WorkerOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunWorker(*o);
  }
  if (role == "gen") {
    auto o = psrec::GenOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunGen(*o);
  }
  if (role == "eval") {
    auto o = psrec::EvalOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunEval(*o);
  }
  if (role == "recommend") {
    auto o = psrec::RecommendOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunRecommend(*o);
  }
  if (role == "export") {
    auto o = psrec::ExportOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunExport(*o);
  }
  if (role == "health") {
    auto o = psrec::HealthOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunHealth(*o);
  }
  if (role == "status") {
    auto o = psrec::StatusOptionsFromFlags();
    if (!o.ok()) return usage_error(o.status());
    return psrec::RunStatus(*o);
  }
  std::fprintf(stderr, "psrec: unknown role '%s'; valid: train, coordinator, server, worker, "
                       "eval, recommend, export, gen, health, status (psrec --help)\n", role.c_str());
  return 2;
}
