// The best epoch's parameters during a run with validation: whenever the
// validation metric improves, every server writes its shard into a scratch
// directory inside --model_out; at the end that snapshot becomes the model.
#ifndef PSREC_CLI_MODEL_SNAPSHOT_H_
#define PSREC_CLI_MODEL_SNAPSHOT_H_

#include <string>

#include "absl/status/status.h"
#include "worker/grpc_ps_client.h"
#include "worker/model_manifest.h"

namespace psrec {

class BestModelSnapshot {
 public:
  // An empty `model_out` means no model is wanted: Save and Publish do nothing.
  explicit BestModelSnapshot(const std::string& model_out);

  // Has every server write its shard of the current parameters, replacing
  // the previous snapshot. Call only while no worker trains (between epochs).
  absl::Status Save(GrpcPsClient& ps);

  // Moves the last snapshot's shard files into --model_out, writes its
  // model.json and removes the scratch directory. FailedPrecondition when
  // Save never succeeded.
  absl::Status Publish(const ModelManifest& manifest);

  const std::string& dir() const { return dir_; }

 private:
  std::string model_out_;
  std::string dir_;  // <model_out>/.best-epoch
  bool saved_ = false;
};

}  // namespace psrec

#endif  // PSREC_CLI_MODEL_SNAPSHOT_H_
