#include "cli/model_snapshot.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "common/file_util.h"

namespace psrec {

BestModelSnapshot::BestModelSnapshot(const std::string& model_out)
    : model_out_(model_out), dir_(model_out.empty() ? "" : model_out + "/.best-epoch") {}

absl::Status BestModelSnapshot::Save(GrpcPsClient& ps) {
  if (model_out_.empty()) return absl::OkStatus();
  if (auto s = ps.SaveAll(dir_); !s.ok()) return s;
  saved_ = true;
  return absl::OkStatus();
}

absl::Status BestModelSnapshot::Publish(const ModelManifest& manifest) {
  if (model_out_.empty()) return absl::OkStatus();
  if (!saved_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: no snapshot of a best epoch to publish", dir_));
  }
  // Moved, not reloaded into the servers and saved again: the snapshot files
  // are exactly what SaveAll writes for the best epoch's parameters, so a
  // rename (same directory tree, so same file system) gives --model_out those
  // parameters bit for bit, and psrec eval reproduces that epoch's metrics.
  // Reloading would need a load RPC the servers do not have.
  for (uint32_t i = 0; i < manifest.num_shards; ++i) {
    const std::string from = absl::StrFormat("%s/shard-%d.psm", dir_, i);
    const std::string to = absl::StrFormat("%s/shard-%d.psm", model_out_, i);
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrFormat("moving %s to %s", from, to));
    }
  }
  // model.json last: WriteFileAtomically also syncs the directory, which
  // makes the renames above durable before the model is declared complete.
  if (auto s = WriteModelManifest(model_out_, manifest); !s.ok()) return s;
  if (::rmdir(dir_.c_str()) != 0) return ErrnoToStatus(errno, "removing " + dir_);
  return absl::OkStatus();
}

}  // namespace psrec
