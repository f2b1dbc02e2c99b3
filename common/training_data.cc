#include "common/training_data.h"

#include <utility>

#include "common/config_proto.h"
#include "common/data_reader.h"

namespace psrec {

bool ValidationEnabled(const rpc::RunConfig& config) { return config.validation() == "auto"; }

ValidationSplitOptions ValidationSplitOptionsFromConfig(const rpc::RunConfig& config) {
  ValidationSplitOptions o;
  o.ranking = config.task() == "ranking";
  o.fraction = config.validation_fraction();
  o.negatives = kValidationNegatives;
  o.seed = config.seed();
  return o;
}

absl::StatusOr<ValidationSplit> ReadTrainingData(const rpc::RunConfig& config) {
  auto data = ReadInteractions(config.train_path(), ReaderOptionsFromConfig(config));
  if (!data.ok()) return data.status();
  if (!ValidationEnabled(config)) {
    ValidationSplit all;
    all.train = std::move(*data);
    return all;
  }
  return SplitValidation(std::move(*data), ValidationSplitOptionsFromConfig(config));
}

}  // namespace psrec
