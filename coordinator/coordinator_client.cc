#include "coordinator/coordinator_client.h"

#include "absl/strings/str_cat.h"
#include "common/retry.h"
#include "common/rpc_util.h"

namespace psrec {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

}  // namespace

CoordinatorClient::CoordinatorClient(std::string address, const RpcOptions& rpc,
                                     absl::Duration retry_budget)
    : address_(std::move(address)),
      retry_budget_(retry_budget),
      stub_(rpc::Coordinator::NewStub(MakeChannel(address_, rpc))) {}

// One unary call with a deadline, retried while the coordinator is unreachable.
#define PSREC_COORD_CALL(Method, req, resp)                                         \
  RetryWhileUnavailable(retry_budget_, "coordinator at " + address_, [&] {          \
    if (cancelled_ && cancelled_()) return absl::CancelledError("shutting down");   \
    grpc::ClientContext ctx;                                                         \
    SetDeadline(&ctx, kCallTimeout);                                                 \
    return FromGrpc(stub_->Method(&ctx, req, &resp),                                 \
                    absl::StrCat("coordinator ", address_, " " #Method));            \
  })

absl::StatusOr<rpc::RegisterResponse> CoordinatorClient::Register(rpc::Role role,
                                                                  const std::string& address,
                                                                  int index, int metrics_port) {
  rpc::RegisterRequest req;
  req.set_protocol_version(kProtocolVersion);
  req.set_role(role);
  req.set_address(address);
  if (index >= 0 && role == rpc::ROLE_SERVER) req.set_shard_index(static_cast<uint32_t>(index));
  if (index >= 0 && role == rpc::ROLE_WORKER) req.set_worker_index(static_cast<uint32_t>(index));
  if (metrics_port > 0) req.set_metrics_port(static_cast<uint32_t>(metrics_port));
  rpc::RegisterResponse resp;
  if (auto s = PSREC_COORD_CALL(Register, req, resp); !s.ok()) return s;
  return resp;
}

absl::StatusOr<rpc::ShardMap> CoordinatorClient::WaitForShardMap(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  rpc::ShardMapRequest req;
  req.set_protocol_version(kProtocolVersion);
  for (;;) {
    rpc::ShardMapResponse resp;
    if (auto s = PSREC_COORD_CALL(GetShardMap, req, resp); !s.ok()) return s;
    if (resp.ready()) return resp.map();
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat(
          "coordinator ", address_, ": not every server registered within ",
          absl::FormatDuration(timeout), " (check --servers and the servers' logs)"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::StatusOr<rpc::HeartbeatResponse> CoordinatorClient::Heartbeat(
    rpc::Role role, uint32_t id, const rpc::LeaseProgress& progress) {
  rpc::HeartbeatRequest req;
  req.set_role(role);
  req.set_id(id);
  if (progress.leased()) *req.mutable_progress() = progress;
  rpc::HeartbeatResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(5));
  if (auto s = FromGrpc(stub_->Heartbeat(&ctx, req, &resp), "coordinator " + address_);
      !s.ok()) {
    return s;
  }
  return resp;
}

absl::StatusOr<rpc::LeaseResponse> CoordinatorClient::AcquireLease(uint32_t worker_id) {
  rpc::LeaseRequest req;
  req.set_worker_id(worker_id);
  rpc::LeaseResponse resp;
  if (auto s = PSREC_COORD_CALL(AcquireLease, req, resp); !s.ok()) return s;
  return resp;
}

absl::Status CoordinatorClient::CompleteLease(const rpc::CompleteRequest& req) {
  rpc::CompleteResponse resp;
  return PSREC_COORD_CALL(CompleteLease, req, resp);
}

absl::StatusOr<rpc::StatusResponse> CoordinatorClient::GetStatus() {
  rpc::StatusRequest req;
  rpc::StatusResponse resp;
  if (auto s = PSREC_COORD_CALL(GetStatus, req, resp); !s.ok()) return s;
  return resp;
}

absl::Status CoordinatorClient::Gate(uint32_t epochs_allowed, bool stop) {
  rpc::GateRequest req;
  req.set_epochs_allowed(epochs_allowed);
  req.set_stop(stop);
  rpc::GateResponse resp;
  return PSREC_COORD_CALL(Gate, req, resp);
}

absl::Status CoordinatorClient::FinishClock(uint32_t worker_id, uint32_t epoch, uint64_t clock) {
  rpc::ClockRequest req;
  req.set_worker_id(worker_id);
  req.set_epoch(epoch);
  req.set_clock(clock);
  for (;;) {
    rpc::ClockResponse resp;
    if (auto s = PSREC_COORD_CALL(Clock, req, resp); !s.ok()) return s;
    if (resp.proceed()) return absl::OkStatus();
  }
}

#undef PSREC_COORD_CALL

}  // namespace psrec
