// The run's training data as every process must see it: the training file
// read with the run's reader settings, minus the validation split when
// --validation=auto. The coordinator (dataset facts), the workers (data
// shards, negative sampling) and `psrec train` (validation) all read it
// through here, so validation interactions are never trained on.
#ifndef PSREC_COMMON_TRAINING_DATA_H_
#define PSREC_COMMON_TRAINING_DATA_H_

#include "absl/status/statusor.h"
#include "common/validation_split.h"
#include "proto/psrec.pb.h"

namespace psrec {

// Negatives per held-out user of the ranking validation split (as in NCF).
inline constexpr uint32_t kValidationNegatives = 99;

bool ValidationEnabled(const rpc::RunConfig& config);
ValidationSplitOptions ValidationSplitOptionsFromConfig(const rpc::RunConfig& config);

// Reads config.train_path(); without validation, everything is `train`.
// Errors name the file and line (common/data_reader.h).
absl::StatusOr<ValidationSplit> ReadTrainingData(const rpc::RunConfig& config);

}  // namespace psrec

#endif  // PSREC_COMMON_TRAINING_DATA_H_
