#include "server/checkpoint_service.h"

#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "common/rpc_util.h"
#include "common/run_fence.h"
#include "server/checkpoint_store.h"

namespace psrec {

CheckpointService::CheckpointService(std::string own_dir, PrometheusRegistry* registry)
    : own_dir_(std::move(own_dir)),
      seconds_(registry->AddHistogram("psrec_checkpoint_seconds",
                                      "Time to write this process's part of a checkpoint.", "",
                                      {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120})),
      failures_(registry->AddCounter(
          "psrec_checkpoint_failures_total",
          "Checkpoint writes that failed (full disk, unwritable directory); training goes on.")),
      written_(registry->AddCounter("psrec_checkpoints_total", "Checkpoint files written.")) {}

void CheckpointService::SetShard(const ShardState* shard) { shard_.store(shard); }

grpc::Status CheckpointService::WriteCheckpoint(grpc::ServerContext*,
                                                const rpc::ShardCheckpointRequest* req,
                                                rpc::ShardCheckpointResponse* resp) {
  if (grpc::Status run = CheckRunId(req->run_id(), run_id_.load()); !run.ok()) return run;
  const ShardState* shard = shard_.load();
  if (shard == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is not configured yet");
  }
  const std::string dir = DirFor(req->dir());
  if (dir.empty() || req->round() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "checkpoint: no directory (--checkpoint_dir) or round 0");
  }
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  CheckpointStore store(dir, shard->shard_index());
  auto bytes = store.WriteRound(req->round(), *shard);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!bytes.ok()) {
    failures_->Add();
    spdlog::error("checkpoint round {}: {} (training goes on)", req->round(),
                  bytes.status().message());
    return ToGrpc(bytes.status());
  }
  seconds_->Observe(seconds);
  written_->Add();
  store.Prune(req->keep(), req->last_complete_round());
  resp->set_path(store.RoundPath(req->round()));
  resp->set_bytes(*bytes);
  resp->set_seconds(seconds);
  spdlog::debug("checkpoint round {}: {} ({} bytes, {:.3f}s)", req->round(), resp->path(), *bytes,
                seconds);
  return grpc::Status::OK;
}

absl::Status CheckpointService::WriteFinal(const std::string& coordinator_dir,
                                           uint64_t last_complete_round) {
  const ShardState* shard = shard_.load();
  const std::string dir = DirFor(coordinator_dir);
  if (shard == nullptr || dir.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  CheckpointStore store(dir, shard->shard_index());
  auto bytes = store.WriteFinal(last_complete_round, *shard);
  if (!bytes.ok()) {
    failures_->Add();
    return bytes.status();
  }
  seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  written_->Add();
  spdlog::info("final snapshot {} written ({} bytes, after round {})", store.FinalPath(), *bytes,
               last_complete_round);
  return absl::OkStatus();
}

}  // namespace psrec
