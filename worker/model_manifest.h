// model.json: the self-description of a saved model directory (its run
// configuration and how many shard files hold its rows).
#ifndef PSREC_WORKER_MODEL_MANIFEST_H_
#define PSREC_WORKER_MODEL_MANIFEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/psrec.pb.h"

namespace psrec {

struct ModelManifest {
  rpc::RunConfig config;  // without the item list
  uint32_t num_shards = 0;
};

absl::Status WriteModelManifest(const std::string& dir, const ModelManifest& manifest);
absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir);

}  // namespace psrec

#endif  // PSREC_WORKER_MODEL_MANIFEST_H_
