#include "coordinator/coordinator_service.h"

#include "common/rpc_util.h"

namespace psrec {

grpc::Status CoordinatorService::Register(grpc::ServerContext*, const rpc::RegisterRequest* req,
                                          rpc::RegisterResponse* resp) {
  auto r = state_->Register(*req);
  if (!r.ok()) return ToGrpc(r.status());
  *resp = std::move(*r);
  if (checkpoints_ != nullptr && req->role() == rpc::ROLE_SERVER) {
    *resp->mutable_restore() = checkpoints_->RestorePoint();
  }
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::GetShardMap(grpc::ServerContext*, const rpc::ShardMapRequest* req,
                                             rpc::ShardMapResponse* resp) {
  if (req->protocol_version() != kProtocolVersion) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "protocol version mismatch");
  }
  *resp = state_->GetShardMap();
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext*, const rpc::HeartbeatRequest* req,
                                           rpc::HeartbeatResponse* resp) {
  state_->Heartbeat(req->role(), req->id(), req->progress());
  resp->set_shutdown(stop_.load());
  if (checkpoints_ != nullptr) resp->set_last_complete_round(checkpoints_->last_complete_round());
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ReplicaDropBackup(grpc::ServerContext*,
                                                   const rpc::ReplicaDropRequest* req,
                                                   rpc::ReplicaDropResponse* resp) {
  auto map = state_->DropBackup(*req);
  if (!map.ok()) return ToGrpc(map.status());
  *resp->mutable_map() = std::move(*map);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ReplicaJoined(grpc::ServerContext*,
                                               const rpc::ReplicaJoinedRequest* req,
                                               rpc::ReplicaDropResponse* resp) {
  auto map = state_->Joined(*req);
  if (!map.ok()) return ToGrpc(map.status());
  *resp->mutable_map() = std::move(*map);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::AcquireLease(grpc::ServerContext*, const rpc::LeaseRequest* req,
                                              rpc::LeaseResponse* resp) {
  *resp = state_->AcquireLease(req->worker_id());
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::CompleteLease(grpc::ServerContext*,
                                               const rpc::CompleteRequest* req,
                                               rpc::CompleteResponse*) {
  return ToGrpc(state_->CompleteLease(*req));
}

grpc::Status CoordinatorService::GetStatus(grpc::ServerContext*, const rpc::StatusRequest*,
                                           rpc::StatusResponse* resp) {
  *resp = state_->Status();
  state_->FillCoverage(resp);
  if (checkpoints_ != nullptr) checkpoints_->FillStatus(resp);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::Gate(grpc::ServerContext*, const rpc::GateRequest* req,
                                      rpc::GateResponse*) {
  state_->Gate(req->epochs_allowed(), req->stop());
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::Clock(grpc::ServerContext*, const rpc::ClockRequest* req,
                                       rpc::ClockResponse* resp) {
  const absl::Time start = absl::Now();
  *resp = state_->Clock(*req);
  if (clock_wait_ != nullptr) clock_wait_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return grpc::Status::OK;
}

}  // namespace psrec
