// The replication fault scenario shared by the short (`fault`) and long
// (`fault-long`) tests: a coordinator and three servers with --replicas=2 as
// real processes, and this test as a real gRPC client pushing a counting
// table: every push adds exactly 1 (gradient -1, plain SGD at lr 1, no L2) to
// the keys it names, and the test counts the pushes acknowledged per key. A
// server is killed with SIGKILL while pushes are in flight; after the
// promotion every key must read exactly its acknowledged count.
#ifndef PSREC_TESTS_INTEGRATION_REPLICATION_FAULT_H_
#define PSREC_TESTS_INTEGRATION_REPLICATION_FAULT_H_

#include <signal.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/child_process.h"
#include "common/config_proto.h"
#include "common/rpc_util.h"
#include "coordinator/coordinator_client.h"
#include "tests/integration/run_util.h"
#include "worker/grpc_ps_client.h"

namespace psrec::testing_util {

struct StartedRole {
  std::unique_ptr<ChildProcess> process;
  std::string address;
};

inline StartedRole StartRole(const std::string& name, const std::vector<std::string>& args) {
  auto child = ChildProcess::Spawn(name, args, PSREC_BINARY);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  StartedRole s{std::make_unique<ChildProcess>(std::move(*child)), ""};
  auto port = s.process->WaitForPort(absl::Seconds(60));
  EXPECT_TRUE(port.ok()) << port.status();
  if (port.ok()) s.address = absl::StrCat("127.0.0.1:", *port);
  return s;
}

// A tiny training file: the coordinator needs one, the counting client
// never reads it.
inline std::string WriteTinyTrainFile(const std::string& dir) {
  const std::string path = dir + "/train.rating";
  std::ofstream f(path);
  for (int u = 1; u <= 50; ++u) {
    for (int i = 0; i < 5; ++i) f << u << "\t" << (u * 7 + i * 13) % 97 + 1 << "\t1\t0\n";
  }
  return path;
}

struct CountingFaultReport {
  uint64_t acknowledged = 0;    // pushes acknowledged to the client (calls of Push)
  uint64_t key_updates = 0;     // sum over keys of acknowledged pushes naming it
  uint64_t unacknowledged = 0;  // Push calls that failed for good
  uint64_t lost = 0;            // key updates acknowledged but missing from the table
  uint64_t extra = 0;           // key updates applied more often than acknowledged
  double seconds_to_promotion = -1;  // kill to the coordinator's promotion
  bool rejoined = false;             // rejoin: the joiner became the backup
};

// Kills server `victim` (by index) after `kill_after_pushes` acknowledged
// pushes; `seed` picks the keys of each push. With `pause`, the victim is
// stopped (SIGSTOP) instead, and resumed once its backup was promoted: a
// cut-off old primary that comes back must not get a write acknowledged.
// With `rejoin`, a fourth server then joins, copies the two degraded shards
// (re-replication) while pushes go on, and once nothing is degraded the
// server that took over the victim's shard is killed too: the copies made
// by the join must hold every acknowledged push.
inline CountingFaultReport RunCountingFault(uint32_t victim, int kill_after_pushes, uint32_t seed,
                                            bool pause = false, bool rejoin = false) {
  CountingFaultReport report;
  const std::string dir = MakeTempDir(absl::StrCat("replication_fault_", seed));
  const std::string train = WriteTinyTrainFile(dir);
  StartedRole coordinator = StartRole(
      "coordinator",
      {"coordinator", "--train=" + train, "--servers=3", "--replicas=2", "--model=gmf",
       "--optimizer=sgd", "--lr=1", "--l2=0", "--dim=4", "--epochs=100000",
       "--server_timeout_seconds=1.5", "--metrics_port=-1", "--log_level=warn"});
  if (coordinator.address.empty()) return report;
  std::vector<StartedRole> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(StartRole(absl::StrCat("server ", i),
                                {"server", "--coordinator=" + coordinator.address,
                                 "--metrics_port=-1", "--log_level=warn"}));
    if (servers.back().address.empty()) return report;
  }

  CoordinatorClient coord(coordinator.address, RpcOptions(), absl::Seconds(30));
  auto reg = coord.Register(rpc::ROLE_DRIVER, "");
  EXPECT_TRUE(reg.ok()) << reg.status();
  if (!reg.ok()) return report;
  auto map = coord.WaitForShardMap(absl::Seconds(30));
  EXPECT_TRUE(map.ok()) << map.status();
  if (!map.ok()) return report;
  EXPECT_EQ(map->replicas(), 2u);
  const rpc::TableSpec& spec = reg->config().tables(0);
  EXPECT_FALSE(spec.dense());
  EXPECT_EQ(spec.l2(), 0.0f) << "the counting table needs no L2";
  const float step = reg->config().lr() * (spec.lr_scale() == 0 ? 1.0f : spec.lr_scale());
  EXPECT_EQ(step, 1.0f);
  const uint32_t dim = spec.dim();

  auto ps = GrpcPsClient::Create(*map, TablesFromConfig(reg->config()), RpcOptions(), absl::Seconds(30));
  EXPECT_TRUE(ps.ok()) << ps.status();
  if (!ps.ok()) return report;
  (*ps)->set_map_source([&coord] { return coord.WaitForShardMap(absl::Seconds(5)); });
  (*ps)->set_worker_id(7);

  constexpr int kKeys = 96;
  std::vector<uint64_t> keys(kKeys);
  for (int k = 0; k < kKeys; ++k) keys[k] = 1000 + k;
  std::vector<float> initial(kKeys * dim);
  EXPECT_TRUE((*ps)->Pull({PullOp{spec.id(), keys, initial.data(), nullptr}}, false).ok());

  // Which server process is `victim`: match its address in the map.
  int victim_process = -1;
  for (int i = 0; i < 3; ++i) {
    if (servers[i].address == map->server_addresses(victim)) victim_process = i;
  }
  EXPECT_GE(victim_process, 0);
  if (victim_process < 0) return report;

  std::vector<uint64_t> acked(kKeys, 0);
  std::mt19937 rng(seed);
  std::atomic<int> acked_pushes{0};
  std::atomic<int64_t> killed_at_ns{0};
  // The killer runs beside the pushes so that some are in flight when the
  // server dies.
  std::thread killer([&] {
    while (acked_pushes.load() < kill_after_pushes) absl::SleepFor(absl::Milliseconds(1));
    const pid_t pid = servers[victim_process].process->pid();
    ::kill(pid, pause ? SIGSTOP : SIGKILL);
    killed_at_ns.store(absl::ToUnixNanos(absl::Now()));
    if (!pause) return;
    CoordinatorClient watcher(coordinator.address, RpcOptions(), absl::Seconds(30));
    for (;;) {
      auto st = watcher.GetStatus();
      if (!st.ok() || st->promotions() > 0) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::SleepFor(absl::Milliseconds(300));
    ::kill(pid, SIGCONT);
  });
  // Push until the promotion happened and then some more, through the new
  // primary.
  int after_promotion = -1;
  std::vector<uint64_t> push_keys;
  std::vector<float> grads;
  // rejoin: 1 = the fourth server started, 2 = nothing degraded any more,
  // second server killed, 3 = its shards promoted.
  int rejoin_phase = 0;
  int phase_pushes = 0;
  while (rejoin ? rejoin_phase < 3 || phase_pushes < 100 : after_promotion < 200) {
    ++phase_pushes;
    if (report.acknowledged > 20000) {
      ADD_FAILURE() << "no progress: rejoin phase " << rejoin_phase << ", "
                    << (after_promotion < 0 ? "no promotion seen" : "promoted");
      break;
    }
    if (rejoin && after_promotion >= 100 && rejoin_phase == 0) {
      servers.push_back(StartRole("server 3", {"server", "--coordinator=" + coordinator.address,
                                               "--metrics_port=-1", "--log_level=warn"}));
      rejoin_phase = 1;
    } else if (rejoin_phase == 1 && phase_pushes % 20 == 0) {
      auto st = coord.GetStatus();
      if (st.ok() && st->degraded_shards() == 0) {
        report.rejoined = true;
        const std::string& second = st->map().server_addresses((victim + 1) % 3);
        for (auto& s : servers) {
          if (s.address == second) ::kill(s.process->pid(), SIGKILL);
        }
        rejoin_phase = 2;
      }
    } else if (rejoin_phase == 2 && phase_pushes % 20 == 0) {
      auto st = coord.GetStatus();
      if (st.ok() && st->promotions() >= 3) {
        rejoin_phase = 3;
        phase_pushes = 0;
      }
    }
    push_keys.clear();
    for (int k = 0; k < kKeys; ++k) {
      if (rng() % 3 == 0) push_keys.push_back(keys[k]);
    }
    if (push_keys.empty()) continue;
    grads.assign(push_keys.size() * dim, -1.0f);
    absl::Status s = (*ps)->Push({PushOp{spec.id(), push_keys, grads.data(), 1.0f}});
    if (!s.ok()) {
      ADD_FAILURE() << "push not acknowledged: " << s;
      ++report.unacknowledged;
      break;
    }
    ++report.acknowledged;
    for (uint64_t key : push_keys) ++acked[key - 1000];
    report.key_updates += push_keys.size();
    acked_pushes.fetch_add(1);
    if (after_promotion >= 0) {
      ++after_promotion;
    } else if ((*ps)->map_version() > map->version() && acked_pushes.load() > kill_after_pushes) {
      auto status = coord.GetStatus();
      if (status.ok() && status->promotions() > 0) {
        after_promotion = 0;
        report.seconds_to_promotion =
            absl::ToDoubleSeconds(absl::Now() - absl::FromUnixNanos(killed_at_ns.load()));
      }
    }
  }
  killer.join();

  auto status = coord.GetStatus();
  EXPECT_TRUE(status.ok()) << status.status();
  if (status.ok()) {
    EXPECT_EQ(status->promotions(), rejoin ? 3u : 1u);  // the second victim held two primaries
    EXPECT_EQ(status->lost_shards(), 0u);
    // The victim's own shard (promoted, no backup left) and the shard it
    // backed up run degraded: no spare server is left.
    EXPECT_EQ(status->degraded_shards(), 2u);
  }

  // `psrec status --json` shows the degraded state.
  RunResult shown = RunPsrec({"status", "--coordinator=" + coordinator.address, "--json"}, 60);
  EXPECT_EQ(JsonNumber(shown.out, "degraded_shards"), 2) << shown.out << shown.err;
  EXPECT_EQ(JsonNumber(shown.out, "promotions"), rejoin ? 3 : 1) << shown.out;

  if (pause) {
    // The resumed old primary refuses its old shard, naming both versions.
    auto stub = rpc::ParameterServer::NewStub(MakeChannel(servers[victim_process].address, RpcOptions()));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    rpc::PullRequest req;
    req.set_protocol_version(kProtocolVersion);
    req.set_table(spec.id());
    req.set_map_version(map->version());
    req.set_logical_shard(victim);
    PackArray<uint64_t>(std::vector<uint64_t>{keys[0]}, req.mutable_keys());
    rpc::PullResponse resp;
    grpc::Status s = stub->Pull(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_NE(s.error_message().find(absl::StrCat("version ", map->version(), " (request) vs ")),
              std::string::npos)
        << s.error_message();
  }

  std::vector<float> now(kKeys * dim);
  absl::Status pulled = (*ps)->Pull({PullOp{spec.id(), keys, now.data(), nullptr}}, false);
  EXPECT_TRUE(pulled.ok()) << pulled;
  for (int k = 0; k < kKeys && pulled.ok(); ++k) {
    for (uint32_t d = 0; d < dim; ++d) {
      const double applied = std::round(now[k * dim + d] - initial[k * dim + d]);
      if (applied < acked[k]) report.lost += acked[k] - static_cast<uint64_t>(applied);
      if (applied > acked[k]) report.extra += static_cast<uint64_t>(applied) - acked[k];
      EXPECT_EQ(applied, static_cast<double>(acked[k])) << "key " << keys[k] << " dim " << d;
    }
  }
  for (auto& s : servers) s.process->Stop(absl::Seconds(2));
  coordinator.process->Stop(absl::Seconds(2));
  std::printf(
      "replication fault (seed %u, %s server %u after %d pushes%s): %lu pushes acknowledged "
      "(%lu key updates), unacknowledged %lu, lost %lu, applied twice %lu, promotion %.2f s "
      "after the kill\n",
      seed, pause ? "paused" : "killed", victim, kill_after_pushes,
      rejoin ? ", a server joined and its copies were promoted" : "", static_cast<unsigned long>(report.acknowledged),
      static_cast<unsigned long>(report.key_updates),
      static_cast<unsigned long>(report.unacknowledged), static_cast<unsigned long>(report.lost),
      static_cast<unsigned long>(report.extra), report.seconds_to_promotion);
  return report;
}

}  // namespace psrec::testing_util

#endif  // PSREC_TESTS_INTEGRATION_REPLICATION_FAULT_H_
