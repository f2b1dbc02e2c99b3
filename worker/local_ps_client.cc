#include "worker/local_ps_client.h"

#include <cmath>

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
    if (!(op.lr_scale > 0) || !std::isfinite(op.lr_scale)) {
      return absl::InvalidArgumentError(absl::StrFormat("push: lr_scale %g", op.lr_scale));
    }
    if (op.assign) {
      t->AssignRows(op.keys, op.grads);
      continue;
    }
    if (op.add_deltas) {
      if (shard_->optimizer().state_floats() != 0) {
        return absl::FailedPreconditionError("push with add_deltas: only for sgd tables");
      }
      t->AddToRows(op.keys, op.grads);
      continue;
    }
    t->Push(op.keys, op.grads, shard_->lr() * op.lr_scale);
  }
  return absl::OkStatus();
}

}  // namespace psrec
