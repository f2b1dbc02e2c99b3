// psrec: one binary, one subcommand per role.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/flags.h"
#include "cli/tools.h"
#include "cli/train.h"
#include "common/logging.h"

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
  gen          write psrec's synthetic data set (--out=DIR)

examples:
  psrec train                                   # synthetic data, gmf, 2 servers + 2 workers
  psrec train --train=ml-100k-loo/train.rating --test_negatives=ml-100k-loo/test.negative
  psrec train --model=mf --train=ml-100k/u1.base --test=ml-100k/u1.test

Flags may be written --batch-size or --batch_size. `psrec ROLE --helpfull` lists every flag.
)";

bool IsHelp(const char* a) {
  return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0 ||
         std::strcmp(a, "help") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (argc < 2 || IsHelp(argv[1])) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string role = argv[1];
  std::vector<std::string> args = {argv[0]};
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  psrec::NormalizeFlagSpelling(&args);
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
  std::fprintf(stderr, "psrec: unknown role '%s'; valid: train, coordinator, server, worker, "
                       "eval, gen (psrec --help)\n", role.c_str());
  return 2;
}
