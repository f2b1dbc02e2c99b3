#include "cli/cluster_status.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/health.h"
#include "common/rpc_util.h"
#include "coordinator/coordinator_client.h"
#include "proto/psrec.grpc.pb.h"

namespace psrec {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Each server's share of the ring: a virtual node owns the keys hashed
// after the previous node's position up to its own (wrapping around).
void FillRingShares(const rpc::ShardMap& map, std::vector<ServerReport>* servers) {
  const int n = map.ring_positions_size();
  if (n == 0 || n != map.ring_owners_size()) return;
  std::map<uint32_t, std::pair<double, uint32_t>> by_owner;
  for (int i = 0; i < n; ++i) {
    const uint64_t prev = map.ring_positions(i == 0 ? n - 1 : i - 1);
    const uint64_t width = map.ring_positions(i) - prev;  // wraps for i == 0
    auto& [share, nodes] = by_owner[map.ring_owners(i)];
    share += static_cast<double>(width) / 18446744073709551616.0;
    ++nodes;
  }
  for (ServerReport& s : *servers) {
    auto it = by_owner.find(s.server.index());
    if (it == by_owner.end()) continue;
    s.ring_share = it->second.first;
    s.virtual_nodes = it->second.second;
  }
}

uint64_t TableRows(const rpc::StatsResponse& stats) {
  uint64_t rows = 0;
  for (const rpc::TableStats& t : stats.tables()) rows += t.rows();
  return rows;
}

uint64_t TableBytes(const rpc::StatsResponse& stats) {
  uint64_t bytes = 0;
  for (const rpc::TableStats& t : stats.tables()) bytes += t.bytes();
  return bytes;
}

// Examples per second over the complete epochs, and in the current one.
std::pair<double, double> Throughput(const rpc::StatusResponse& s) {
  uint64_t examples = 0;
  double seconds = 0;
  double current = 0;
  for (const rpc::EpochSummary& e : s.history()) {
    if (e.complete()) {
      examples += e.examples();
      seconds += e.seconds();
    } else if (e.seconds() > 0) {
      current = e.examples_so_far() / e.seconds();
    }
  }
  return {seconds > 0 ? examples / seconds : 0.0, current};
}

std::string MiB(uint64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

}  // namespace

absl::StatusOr<ClusterReport> CollectClusterReport(const StatusOptions& options) {
  ClusterReport report;
  report.coordinator = options.coordinator;
  CoordinatorClient coordinator(options.coordinator, options.rpc, options.timeout);
  auto status = coordinator.GetStatus();
  if (!status.ok()) return status.status();
  report.status = std::move(*status);
  auto health = CheckHealth(options.coordinator, "", options.timeout, options.rpc);
  report.coordinator_health = health.ok() ? *health : "DOWN";
  for (const rpc::ServerStatus& s : report.status.server_status()) {
    ServerReport r;
    r.server = s;
    auto h = CheckHealth(s.address(), "", options.timeout, options.rpc);
    r.health = h.ok() ? *h : "DOWN";
    if (!h.ok()) r.error = std::string(h.status().message());
    auto stub = rpc::ParameterServer::NewStub(MakeChannel(s.address(), options.rpc));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options.timeout);
    const grpc::Status g = stub->Stats(&ctx, rpc::StatsRequest(), &r.stats);
    r.has_stats = g.ok();
    if (!g.ok() && r.error.empty()) r.error = "Stats: " + g.error_message();
    report.servers.push_back(std::move(r));
  }
  FillRingShares(report.status.map(), &report.servers);
  return report;
}

std::string ClusterReportText(const ClusterReport& r) {
  const rpc::StatusResponse& s = r.status;
  std::string out;
  const auto [mean_rate, current_rate] = Throughput(s);
  absl::StrAppend(
      &out, absl::StrFormat("coordinator %s  %s  model %s  train %s  up %.0fs  metrics port %d\n",
                            r.coordinator, r.coordinator_health, s.model(), s.train_path(),
                            s.uptime_seconds(), s.metrics_port()));
  const uint32_t shown_epoch = std::min(s.current_epoch() + 1, s.epochs());
  absl::StrAppend(&out, absl::StrFormat("run: %s, epoch %d/%d, %d data shards, %d/%d servers, %d "
                                        "workers; %.0f ex/s over complete epochs, %.0f ex/s now\n",
                                        s.done() ? "done" : "training", shown_epoch, s.epochs(),
                                        s.data_shards(), s.servers(), s.expected_servers(),
                                        s.workers(), mean_rate, current_rate));
  const bool clocked = !s.consistency().empty() && s.consistency() != "asp";
  if (clocked) {
    absl::StrAppend(&out, absl::StrFormat("consistency: %s%s, clock spread %d, most clocks ahead "
                                          "%d (whole run)\n",
                                          s.consistency(),
                                          s.consistency() == "ssp"
                                              ? absl::StrFormat(" (staleness %d)", s.staleness())
                                              : "",
                                          s.clock_spread(), s.max_clock_ahead()));
  } else {
    absl::StrAppend(&out, "consistency: asp (no clock barrier)\n");
  }
  if (s.replicas() >= 2) {
    absl::StrAppend(&out, absl::StrFormat("replication: %d replicas, %d degraded shards (no "
                                          "backup), %d lost, %d promotions\n",
                                          s.replicas(), s.degraded_shards(), s.lost_shards(),
                                          s.promotions()));
  }
  for (const rpc::EpochSummary& e : s.history()) {
    // The loss is over completed shards only.
    const std::string loss = e.done_shards() > 0 ? absl::StrFormat("%.4f", e.loss()) : "-";
    absl::StrAppend(
        &out, absl::StrFormat("  epoch %d: %s, shards %d/%d, examples %d of ~%d, loss %s, %.1fs\n",
                              e.epoch() + 1, e.complete() ? "complete" : "in progress",
                              e.done_shards(), e.data_shards(), e.examples_so_far(),
                              e.expected_examples(), loss, e.seconds()));
  }
  for (const rpc::EpochCoverage& c : s.coverage()) {
    absl::StrAppend(&out, absl::StrFormat("  coverage epoch %d: %d of %d examples at least once%s, "
                                          "%d re-done, %d leases taken back\n",
                                          c.epoch() + 1, c.examples_once(), c.expected_examples(),
                                          c.complete() && c.examples_once() == c.expected_examples()
                                              ? " (all)"
                                              : "",
                                          c.duplicate_examples(), c.releases()));
  }
  if (s.checkpoint().enabled()) {
    const rpc::CheckpointStatus& c = s.checkpoint();
    absl::StrAppend(&out, absl::StrFormat("checkpoints: %s, last complete round %d (%.2fs), %d "
                                          "failed%s%s\n",
                                          c.dir(), c.last_complete_round(), c.last_seconds(),
                                          c.rounds_failed(), c.last_error().empty() ? "" : ": ",
                                          c.last_error()));
  } else {
    absl::StrAppend(&out, "checkpoints: off\n");
  }
  absl::StrAppend(&out, "servers:\n");
  for (const ServerReport& v : r.servers) {
    absl::StrAppend(
        &out, absl::StrFormat("  server %d  %s  %s  ring %.1f%% (%d vnodes)", v.server.index(),
                              v.server.address(), v.health, 100 * v.ring_share, v.virtual_nodes));
    if (s.replicas() >= 2) {
      absl::StrAppend(&out, v.server.alive()
                                ? absl::StrFormat("  primary of %d, backup of %d shards",
                                                  v.server.primary_shards(),
                                                  v.server.backup_shards())
                                : std::string("  DEAD (shards moved)"));
    }
    if (v.has_stats) {
      absl::StrAppend(
          &out,
          absl::StrFormat("  rows %d  table bytes %s  rss %s  pulls %d  pushes %d  rejected %d",
                          TableRows(v.stats), MiB(TableBytes(v.stats)), MiB(v.stats.rss_bytes()),
                          v.stats.pulls(), v.stats.pushes(), v.stats.rejected()));
      uint64_t delta_rows = 0;
      for (const rpc::TableStats& t : v.stats.tables()) delta_rows += t.delta_rows();
      // Windowed workers (--sync_every) push row changes, not gradients.
      if (delta_rows > 0) absl::StrAppend(&out, absl::StrFormat("  delta rows %d", delta_rows));
    }
    if (!v.error.empty()) absl::StrAppend(&out, "  (", v.error, ")");
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "workers:\n");
  for (const rpc::WorkerStatus& w : s.worker_status()) {
    std::string lease = "no lease";
    if (w.progress().leased()) {
      const rpc::LeaseProgress& p = w.progress();
      lease = absl::StrFormat("epoch %d shard %d: %d/%d examples", p.epoch() + 1, p.shard(),
                              p.examples_done(), p.shard_examples());
    }
    std::string clock;
    if (clocked) {
      clock = absl::StrFormat("  clock %d%s, waited %.2fs", w.clock(),
                              w.in_barrier() ? "" : " (out of the barrier)",
                              w.clock_wait_seconds());
    }
    absl::StrAppend(
        &out, absl::StrFormat("  worker %d  %s  seen %.1fs ago  %s  completed %d "
                              "shards, %d examples%s\n",
                              w.id(), w.alive() ? "alive" : "SILENT", w.seconds_since_seen(), lease,
                              w.shards_completed(), w.examples_completed(), clock));
  }
  return out;
}

std::string ClusterReportJson(const ClusterReport& r) {
  const rpc::StatusResponse& s = r.status;
  const auto [mean_rate, current_rate] = Throughput(s);
  std::vector<std::string> epochs;
  for (const rpc::EpochSummary& e : s.history()) {
    epochs.push_back(absl::StrFormat(
        "{\"epoch\": %d, \"complete\": %s, \"done_shards\": %d, \"data_shards\": %d, "
        "\"examples\": %d, \"expected_examples\": %d, \"loss\": %.6f, \"seconds\": %.3f}",
        e.epoch() + 1, e.complete() ? "true" : "false", e.done_shards(), e.data_shards(),
        e.examples_so_far(), e.expected_examples(), e.loss(), e.seconds()));
  }
  std::vector<std::string> coverage;
  for (const rpc::EpochCoverage& c : s.coverage()) {
    coverage.push_back(absl::StrFormat(
        "{\"epoch\": %d, \"examples_once\": %d, \"expected_examples\": %d, "
        "\"duplicate_examples\": %d, \"releases\": %d, \"complete\": %s}",
        c.epoch() + 1, c.examples_once(), c.expected_examples(), c.duplicate_examples(),
        c.releases(), c.complete() ? "true" : "false"));
  }
  const rpc::CheckpointStatus& ck = s.checkpoint();
  const std::string checkpoint = absl::StrFormat(
      "{\"enabled\": %s, \"dir\": %s, \"last_complete_round\": %d, \"rounds_failed\": %d, "
      "\"last_error\": %s, \"last_seconds\": %.3f, \"recovered_round\": %d}",
      ck.enabled() ? "true" : "false", JsonString(ck.dir()), ck.last_complete_round(),
      ck.rounds_failed(), JsonString(ck.last_error()), ck.last_seconds(), ck.recovered_round());
  std::vector<std::string> servers;
  for (const ServerReport& v : r.servers) {
    std::vector<std::string> tables;
    for (const rpc::TableStats& t : v.stats.tables()) {
      tables.push_back(absl::StrFormat("{\"name\": %s, \"rows\": %d, \"bytes\": %d}",
                                       JsonString(t.name()), t.rows(), t.bytes()));
    }
    servers.push_back(absl::StrFormat(
        "{\"index\": %d, \"address\": %s, \"health\": %s, \"metrics_port\": %d, "
        "\"ring_share\": %.6f, \"virtual_nodes\": %d, \"stats\": %s, \"rows\": %d, "
        "\"table_bytes\": %d, \"rss_bytes\": %d, \"pulls\": %d, \"pushes\": %d, "
        "\"rejected\": %d, \"tables\": [%s], \"alive\": %s, \"primary_shards\": %d, "
        "\"backup_shards\": %d, \"error\": %s}",
        v.server.index(), JsonString(v.server.address()), JsonString(v.health),
        v.server.metrics_port(), v.ring_share, v.virtual_nodes, v.has_stats ? "true" : "false",
        TableRows(v.stats), TableBytes(v.stats), v.stats.rss_bytes(), v.stats.pulls(),
        v.stats.pushes(), v.stats.rejected(), absl::StrJoin(tables, ", "),
        v.server.alive() ? "true" : "false", v.server.primary_shards(), v.server.backup_shards(),
        v.error.empty() ? "null" : JsonString(v.error)));
  }
  std::vector<std::string> workers;
  for (const rpc::WorkerStatus& w : s.worker_status()) {
    const rpc::LeaseProgress& p = w.progress();
    const std::string lease =
        p.leased() ? absl::StrFormat(
                         "{\"epoch\": %d, \"shard\": %d, \"examples_done\": %d, "
                         "\"shard_examples\": %d}",
                         p.epoch() + 1, p.shard(), p.examples_done(), p.shard_examples())
                   : "null";
    workers.push_back(absl::StrFormat(
        "{\"id\": %d, \"alive\": %s, \"seconds_since_seen\": %.3f, \"lease\": %s, "
        "\"shards_completed\": %d, \"examples_completed\": %d, \"metrics_port\": %d, "
        "\"clock\": %d, \"clock_wait_seconds\": %.3f, \"in_barrier\": %s}",
        w.id(), w.alive() ? "true" : "false", w.seconds_since_seen(), lease, w.shards_completed(),
        w.examples_completed(), w.metrics_port(), w.clock(), w.clock_wait_seconds(),
        w.in_barrier() ? "true" : "false"));
  }
  return absl::StrFormat(
      "{\n  \"coordinator\": {\"address\": %s, \"health\": %s, \"metrics_port\": %d, "
      "\"uptime_seconds\": %.3f},\n"
      "  \"run\": {\"model\": %s, \"train\": %s, \"done\": %s, \"current_epoch\": %d, "
      "\"epochs\": %d, \"data_shards\": %d, \"servers\": %d, \"expected_servers\": %d, "
      "\"workers\": %d, \"examples_per_second\": %.1f, \"current_examples_per_second\": %.1f, "
      "\"consistency\": %s, \"staleness\": %d, \"clock_spread\": %d, \"max_clock_ahead\": %d},\n"
      "  \"replication\": {\"replicas\": %d, \"degraded_shards\": %d, \"lost_shards\": %d, "
      "\"promotions\": %d},\n"
      "  \"epochs\": [%s],\n  \"coverage\": [%s],\n  \"checkpoint\": %s,\n"
      "  \"servers\": [\n    %s\n  ],\n  \"workers\": [\n    %s\n  ]\n}\n",
      JsonString(r.coordinator), JsonString(r.coordinator_health), s.metrics_port(),
      s.uptime_seconds(), JsonString(s.model()), JsonString(s.train_path()),
      s.done() ? "true" : "false", std::min(s.current_epoch() + 1, s.epochs()), s.epochs(),
      s.data_shards(), s.servers(), s.expected_servers(), s.workers(), mean_rate, current_rate,
      JsonString(s.consistency().empty() ? "asp" : s.consistency()), s.staleness(),
      s.clock_spread(), s.max_clock_ahead(), std::max<uint32_t>(1, s.replicas()),
      s.degraded_shards(), s.lost_shards(), s.promotions(), absl::StrJoin(epochs, ", "),
      absl::StrJoin(coverage, ", "), checkpoint, absl::StrJoin(servers, ",\n    "),
      absl::StrJoin(workers, ",\n    "));
}

int RunStatus(const StatusOptions& options) {
  auto report = CollectClusterReport(options);
  if (!report.ok()) {
    std::fprintf(stderr, "psrec status: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  const std::string text = options.json ? ClusterReportJson(*report) : ClusterReportText(*report);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace psrec
