// Client of the coordinator service, used by servers, workers and the driver.
// Every call has a deadline; calls retry while the coordinator is unreachable
// and then fail with an error naming its address.
#ifndef PSREC_COORDINATOR_COORDINATOR_CLIENT_H_
#define PSREC_COORDINATOR_COORDINATOR_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc_options.h"
#include "proto/psrec.grpc.pb.h"

namespace psrec {

class CoordinatorClient {
 public:
  // `rpc`: how the channel is secured. `retry_budget`: how long calls keep
  // retrying an unreachable coordinator.
  CoordinatorClient(std::string address, const RpcOptions& rpc,
                    absl::Duration retry_budget = absl::Seconds(30));

  // `index` >= 0: a server asking for that shard, or a worker asking for
  // that id (else the next free one). `metrics_port` > 0: where the process
  // serves its metrics (for status).
  absl::StatusOr<rpc::RegisterResponse> Register(rpc::Role role, const std::string& address,
                                                 int index = -1, int metrics_port = 0);
  // Polls until every expected server registered, or `timeout`.
  absl::StatusOr<rpc::ShardMap> WaitForShardMap(absl::Duration timeout);
  // `progress`: a worker's progress through the shard it holds.
  absl::StatusOr<rpc::HeartbeatResponse> Heartbeat(rpc::Role role, uint32_t id,
                                                   const rpc::LeaseProgress& progress = {});
  absl::StatusOr<rpc::LeaseResponse> AcquireLease(uint32_t worker_id);
  absl::Status CompleteLease(const rpc::CompleteRequest& req);
  absl::StatusOr<rpc::StatusResponse> GetStatus();
  absl::Status Gate(uint32_t epochs_allowed, bool stop);
  // ssp/bsp: reports that `worker_id` finished `clock` of `epoch` and returns
  // once it may start the next one (asking again while the coordinator says
  // wait). CANCELLED once `cancelled()` is true.
  absl::Status FinishClock(uint32_t worker_id, uint32_t epoch, uint64_t clock);

  // Once `cancelled()` returns true, calls stop retrying and fail with
  // CANCELLED (checked before every try), so that a process told to stop
  // does not wait out the retry budget. Set before the first call.
  void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }

  const std::string& address() const { return address_; }

 private:
  std::string address_;
  absl::Duration retry_budget_;
  std::unique_ptr<rpc::Coordinator::Stub> stub_;
  std::function<bool()> cancelled_;
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_CLIENT_H_
