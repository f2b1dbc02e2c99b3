// `psrec status --coordinator=ADDR`: what a running cluster is doing, asked
// of the coordinator (membership, leases, progress) and of every server
// (health, rows, memory, requests), as text for people or JSON for scripts.
#ifndef PSREC_CLI_CLUSTER_STATUS_H_
#define PSREC_CLI_CLUSTER_STATUS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/options.h"
#include "proto/psrec.pb.h"

namespace psrec {

struct ServerReport {
  rpc::ServerStatus server;
  std::string health;  // SERVING, NOT_SERVING, ... or DOWN
  bool has_stats = false;
  rpc::StatsResponse stats;
  std::string error;      // why stats or health are missing
  double ring_share = 0;  // fraction of the hash ring (of the keys) it owns
  uint32_t virtual_nodes = 0;
};

struct ClusterReport {
  std::string coordinator;
  std::string coordinator_health;
  rpc::StatusResponse status;
  std::vector<ServerReport> servers;
};

// Asks the coordinator, then every server it knows. An error only when the
// coordinator cannot be asked; an unreachable server is reported as DOWN.
absl::StatusOr<ClusterReport> CollectClusterReport(const StatusOptions& options);

std::string ClusterReportText(const ClusterReport& report);
// One JSON object; the README's "psrec status" section lists its fields.
std::string ClusterReportJson(const ClusterReport& report);

// Prints the report; exit code 0, or 1 when the coordinator cannot be asked.
int RunStatus(const StatusOptions& options);

}  // namespace psrec

#endif  // PSREC_CLI_CLUSTER_STATUS_H_
