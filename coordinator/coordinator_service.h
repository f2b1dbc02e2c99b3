// gRPC face of CoordinatorState.
#ifndef PSREC_COORDINATOR_COORDINATOR_SERVICE_H_
#define PSREC_COORDINATOR_COORDINATOR_SERVICE_H_

#include <atomic>

#include "common/prometheus.h"
#include "coordinator/checkpoint_rounds.h"
#include "coordinator/coordinator_state.h"
#include "proto/psrec.grpc.pb.h"

namespace psrec {

class CoordinatorService final : public rpc::Coordinator::Service {
 public:
  explicit CoordinatorService(CoordinatorState* state) : state_(state) {}
  // Heartbeats answer shutdown = true from now on.
  void TellEveryoneToStop() { stop_.store(true); }
  // Where Clock calls record how long they blocked (may stay null).
  void set_clock_wait_histogram(Histogram* h) { clock_wait_ = h; }
  // Checkpoints (may stay unset): restore points for registering servers,
  // the last complete round in heartbeats, their status. Set before serving.
  void set_checkpoints(const CheckpointRounds* checkpoints) { checkpoints_ = checkpoints; }

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
  grpc::Status Clock(grpc::ServerContext*, const rpc::ClockRequest*, rpc::ClockResponse*) override;

 private:
  CoordinatorState* state_;
  const CheckpointRounds* checkpoints_ = nullptr;
  std::atomic<bool> stop_{false};
  Histogram* clock_wait_ = nullptr;
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_SERVICE_H_
