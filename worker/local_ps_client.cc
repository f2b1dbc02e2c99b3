#include "worker/local_ps_client.h"

#include "absl/strings/str_format.h"

namespace psrec {

absl::Status LocalPsClient::Pull(absl::Span<const PullOp> ops, bool read_only) {
  for (const PullOp& op : ops) {
    EmbeddingTable* t = shard_->table(op.table);
    if (t == nullptr) return absl::InvalidArgumentError(absl::StrFormat("no table %d", op.table));
    t->Pull(op.keys, op.values, read_only ? op.found : nullptr);
  }
  return absl::OkStatus();
}

absl::Status LocalPsClient::Push(absl::Span<const PushOp> ops) {
  for (const PushOp& op : ops) {
    EmbeddingTable* t = shard_->table(op.table);
    if (t == nullptr) return absl::InvalidArgumentError(absl::StrFormat("no table %d", op.table));
    t->Push(op.keys, op.grads, shard_->lr());
  }
  return absl::OkStatus();
}

}  // namespace psrec
