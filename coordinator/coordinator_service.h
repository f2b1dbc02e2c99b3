// gRPC face of CoordinatorState.
#ifndef PSREC_COORDINATOR_COORDINATOR_SERVICE_H_
#define PSREC_COORDINATOR_COORDINATOR_SERVICE_H_

#include <atomic>

#include "coordinator/coordinator_state.h"
#include "proto/psrec.grpc.pb.h"

namespace psrec {

class CoordinatorService final : public rpc::Coordinator::Service {
 public:
  explicit CoordinatorService(CoordinatorState* state) : state_(state) {}
  // Heartbeats answer shutdown = true from now on.
  void TellEveryoneToStop() { stop_.store(true); }

  grpc::Status Register(grpc::ServerContext*, const rpc::RegisterRequest*,
                        rpc::RegisterResponse*) override;
  grpc::Status GetShardMap(grpc::ServerContext*, const rpc::ShardMapRequest*,
                           rpc::ShardMapResponse*) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const rpc::HeartbeatRequest*,
                         rpc::HeartbeatResponse*) override;
  grpc::Status ReplicaDropBackup(grpc::ServerContext*, const rpc::ReplicaDropRequest*,
                                 rpc::ReplicaDropResponse*) override;
  grpc::Status ReplicaJoined(grpc::ServerContext*, const rpc::ReplicaJoinedRequest*,
                             rpc::ReplicaDropResponse*) override;
  grpc::Status AcquireLease(grpc::ServerContext*, const rpc::LeaseRequest*,
                            rpc::LeaseResponse*) override;
  grpc::Status CompleteLease(grpc::ServerContext*, const rpc::CompleteRequest*,
                             rpc::CompleteResponse*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const rpc::StatusRequest*,
                         rpc::StatusResponse*) override;
  grpc::Status Gate(grpc::ServerContext*, const rpc::GateRequest*, rpc::GateResponse*) override;

 private:
  CoordinatorState* state_;
  std::atomic<bool> stop_{false};
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_SERVICE_H_
