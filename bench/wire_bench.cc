// Push/pull throughput and latency against a real `psrec server` process on
// loopback (issue 4, item 4). Starts `psrec coordinator` and one `psrec
// server` as child processes, joins as a worker, and drives the server
// through GrpcPsClient -- the same client the workers train with -- with
// 1 and 8 requests in flight. Prints one JSON line per case.
//
//   psrec_wire_bench --psrec=PATH [--seconds=S] [--inflight=1,8] [--only="push 100k"]
//                    [--tls_dir=DIR]
// --tls_dir: DIR/node.pem, node.key, ca.pem and token secure every connection
// (README "Security"), to measure what TLS and the token cost.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cli/child_process.h"
#include "common/config_proto.h"
#include "common/file_util.h"
#include "common/malloc_tuning.h"
#include "common/rpc_options.h"
#include "coordinator/coordinator_client.h"
#include "worker/grpc_ps_client.h"

namespace psrec {
namespace {

struct BenchOptions {
  std::string psrec;
  double seconds = 2.0;
  std::vector<int> inflight = {1, 8};
  std::string only;  // run only cases whose "op case" contains this
  std::string tls_dir;
  // Server processes and copies of each shard (--replicas=2 costs a forward
  // to the backup per push). Server CPU is the first server's.
  int servers = 1;
  int replicas = 1;
};

struct Case {
  std::string name;
  const TableConfig* table;
  size_t keys_per_request;
};

// Keys of the sparse cases come from a pool that is pulled once before
// timing, so pulls read existing rows rather than creating them.
constexpr uint64_t kKeyPool = 1 << 20;

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// CPU seconds (user + system, all threads) a process has used so far, from
// /proc/PID/stat. On a shared, noisy machine CPU per request is the steadier
// figure: wall-clock throughput depends on what else runs.
double CpuSeconds(pid_t pid) {
  auto read = ReadWholeFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!read.ok()) return 0;
  const std::string& stat = *read;
  // Fields after the command name, which ends with ')': utime and stime are
  // the 12th and 13th of those.
  std::vector<std::string> f = absl::StrSplit(stat.substr(stat.rfind(')') + 2), ' ');
  if (f.size() < 13) return 0;
  double utime = 0, stime = 0;
  if (!absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) return 0;
  return (utime + stime) / sysconf(_SC_CLK_TCK);
}

// Runs `inflight` threads, each issuing one request at a time, for `seconds`.
absl::Status RunCase(GrpcPsClient& ps, const Case& c, bool push, int inflight, double seconds,
                     pid_t server_pid) {
  const uint32_t dim = c.table->dim;
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies_ms(inflight);
  std::vector<absl::Status> errors(inflight);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const double server_cpu0 = CpuSeconds(server_pid);
  const double client_cpu0 = CpuSeconds(getpid());
  for (int t = 0; t < inflight; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      std::vector<uint64_t> keys(c.keys_per_request);
      std::vector<float> values(c.keys_per_request * dim, 0.001f);
      while (!stop.load(std::memory_order_relaxed)) {
        if (c.table->dense) {
          keys[0] = 0;
        } else {
          // Distinct keys: a contiguous run of the pool from a random start.
          uint64_t first = rng() % kKeyPool;
          for (size_t i = 0; i < keys.size(); ++i) keys[i] = (first + i) % kKeyPool;
        }
        const absl::Time t0 = absl::Now();
        absl::Status s;
        if (push) {
          PushOp op{c.table->id, keys, values.data(), 1.0f};
          s = ps.Push({&op, 1});
        } else {
          PullOp op{c.table->id, keys, values.data(), nullptr};
          s = ps.Pull({&op, 1}, false);
        }
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
        latencies_ms[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  const double server_cpu = CpuSeconds(server_pid) - server_cpu0;
  const double client_cpu = CpuSeconds(getpid()) - client_cpu0;
  for (const auto& e : errors) {
    if (!e.ok()) return e;
  }
  std::vector<double> all;
  for (const auto& l : latencies_ms) all.insert(all.end(), l.begin(), l.end());
  const double requests = static_cast<double>(all.size());
  const double keys = requests * c.keys_per_request;
  const double mb = keys * dim * sizeof(float) / 1e6;
  std::printf(
      "{\"bench\":\"wire\",\"op\":\"%s\",\"case\":\"%s\",\"keys_per_request\":%zu,\"dim\":%u,"
      "\"inflight\":%d,\"requests\":%.0f,\"seconds\":%.2f,\"keys_per_s\":%.0f,\"mb_per_s\":%.1f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"server_cpu_ms_per_request\":%.3f,"
      "\"client_cpu_ms_per_request\":%.3f}\n",
      push ? "push" : "pull", c.name.c_str(), c.keys_per_request, dim, inflight, requests,
      elapsed, keys / elapsed, mb / elapsed, Percentile(all, 0.5), Percentile(all, 0.99),
      1e3 * server_cpu / requests, 1e3 * client_cpu / requests);
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::Status Run(const BenchOptions& o) {
  RpcOptions rpc;
  std::vector<std::string> rpc_flags;
  if (!o.tls_dir.empty()) {
    auto security = LoadRpcSecurity({o.tls_dir + "/node.pem", o.tls_dir + "/node.key",
                                     o.tls_dir + "/ca.pem", "", o.tls_dir + "/token"});
    if (!security.ok()) return security.status();
    rpc.security = std::move(*security);
    rpc_flags = RpcOptionsAsFlags(rpc);
  }
  // The coordinator needs a training file; the bench never trains on it.
  const std::string dir = absl::StrCat("/tmp/psrec_wire_bench_", getpid());
  if (auto s = MakeDirs(dir); !s.ok()) return s;
  const std::string train = dir + "/train.tsv";
  if (auto s = WriteFileAtomically(train, "1\t1\t1\t0\n2\t2\t1\t0\n"); !s.ok()) return s;

  // mlp rows are mlp_dim floats; layer2 of a 1024,1024 tower is a dense
  // tensor of 1024 + 1024 x 1024 floats, about 4 MB.
  std::vector<std::string> coordinator_args = {
      "coordinator", "--train=" + train, absl::StrCat("--servers=", o.servers),
      absl::StrCat("--replicas=", o.replicas), "--workers=1", "--model=mlp",
      "--mlp_dim=32", "--layers=1024,1024", "--optimizer=adagrad", "--host=127.0.0.1",
      "--port=0", "--log_level=warning"};
  coordinator_args.insert(coordinator_args.end(), rpc_flags.begin(), rpc_flags.end());
  auto coordinator = ChildProcess::Spawn("coordinator", coordinator_args, o.psrec);
  if (!coordinator.ok()) return coordinator.status();
  auto cport = coordinator->WaitForPort(absl::Seconds(30));
  if (!cport.ok()) return cport.status();
  const std::string caddr = absl::StrCat("127.0.0.1:", *cport);
  std::vector<ChildProcess> servers;
  for (int i = 0; i < o.servers; ++i) {
    std::vector<std::string> server_args = {"server", "--coordinator=" + caddr,
                                            "--host=127.0.0.1", "--port=0",
                                            "--log_level=warning"};
    server_args.insert(server_args.end(), rpc_flags.begin(), rpc_flags.end());
    auto server = ChildProcess::Spawn("server", server_args, o.psrec);
    if (!server.ok()) return server.status();
    if (auto p = server->WaitForPort(absl::Seconds(30)); !p.ok()) return p.status();
    servers.push_back(std::move(*server));
  }

  CoordinatorClient cc(caddr, rpc);
  auto reg = cc.Register(rpc::ROLE_WORKER, "");
  if (!reg.ok()) return reg.status();
  auto map = cc.WaitForShardMap(absl::Seconds(30));
  if (!map.ok()) return map.status();
  const std::vector<TableConfig> tables = TablesFromConfig(reg->config());
  auto ps = GrpcPsClient::Create(*map, tables, rpc);
  if (!ps.ok()) return ps.status();

  const TableConfig* sparse = nullptr;
  const TableConfig* dense = nullptr;
  for (const TableConfig& t : tables) {
    if (!t.dense && t.dim == 32 && sparse == nullptr) sparse = &t;
    if (t.dense && (dense == nullptr || t.dim > dense->dim)) dense = &t;
  }
  if (sparse == nullptr || dense == nullptr) {
    return absl::InternalError("the bench's model has no 32-float table or dense tensor");
  }
  {  // Create the pool's rows so that timed pulls read existing rows.
    std::vector<uint64_t> keys(kKeyPool);
    std::iota(keys.begin(), keys.end(), 0);
    std::vector<float> values(keys.size() * sparse->dim);
    PullOp op{sparse->id, keys, values.data(), nullptr};
    if (auto s = (*ps)->Pull({&op, 1}, false); !s.ok()) return s;
  }
  const std::vector<Case> cases = {
      {"100k x 32", sparse, 100000},
      {"1k x 32", sparse, 1000},
      {absl::StrCat("dense ", dense->dim * 4 / 1000, " KB"), dense, 1},
  };
  absl::Status result;
  for (const Case& c : cases) {
    for (bool push : {true, false}) {
      const std::string label = absl::StrCat(push ? "push " : "pull ", c.name);
      if (!o.only.empty() && !absl::StrContains(label, o.only)) continue;
      for (int inflight : o.inflight) {
        result = RunCase(**ps, c, push, inflight, o.seconds, servers.front().pid());
        if (!result.ok()) break;
      }
      if (!result.ok()) break;
    }
    if (!result.ok()) break;
  }
  for (ChildProcess& server : servers) server.Stop(absl::Seconds(5));
  coordinator->Stop(absl::Seconds(5));
  std::remove(train.c_str());
  std::remove(dir.c_str());
  return result;
}

}  // namespace
}  // namespace psrec

int main(int argc, char** argv) {
  psrec::TuneMallocForBulkMessages();  // as psrec's own main does
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // likewise
  psrec::BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (absl::StartsWith(a, "--psrec=")) {
      o.psrec = a.substr(8);
    } else if (absl::StartsWith(a, "--seconds=") && absl::SimpleAtod(a.substr(10), &o.seconds)) {
    } else if (absl::StartsWith(a, "--tls_dir=")) {
      o.tls_dir = a.substr(10);
    } else if (absl::StartsWith(a, "--servers=") && absl::SimpleAtoi(a.substr(10), &o.servers) &&
               o.servers >= 1) {
    } else if (absl::StartsWith(a, "--replicas=") &&
               absl::SimpleAtoi(a.substr(11), &o.replicas) && o.replicas >= 1) {
    } else if (absl::StartsWith(a, "--only=")) {
      o.only = a.substr(7);
    } else if (absl::StartsWith(a, "--inflight=")) {
      o.inflight.clear();
      for (absl::string_view n : absl::StrSplit(a.substr(11), ',')) {
        int v = 0;
        if (!absl::SimpleAtoi(n, &v) || v < 1) {
          std::fprintf(stderr, "bad --inflight\n");
          return 2;
        }
        o.inflight.push_back(v);
      }
    } else {
      std::fprintf(stderr, "usage: %s [--psrec=PATH] [--seconds=S] [--inflight=1,8] [--only=\"push 1k\"] [--tls_dir=DIR] [--servers=N] [--replicas=N]\n", argv[0]);
      return 2;
    }
  }
  if (o.psrec.empty()) {
    std::fprintf(stderr, "--psrec=PATH to the psrec binary is required\n");
    return 2;
  }
  absl::Status s = psrec::Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "wire bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
