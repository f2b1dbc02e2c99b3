// Conversions between the run configuration on the wire (RunConfig,
// TableSpec) and psrec's plain structs. Protobuf only, no gRPC, so the
// server's tables can use it without pulling in the RPC layer.
#ifndef PSREC_COMMON_CONFIG_PROTO_H_
#define PSREC_COMMON_CONFIG_PROTO_H_

#include <vector>

#include "common/data_reader.h"
#include "common/lr_schedule.h"
#include "common/recency.h"
#include "common/model_spec.h"
#include "proto/psrec.pb.h"

namespace psrec {

rpc::TableSpec ToProto(const TableConfig& t);
TableConfig FromProto(const rpc::TableSpec& t);
std::vector<TableConfig> TablesFromConfig(const rpc::RunConfig& config);
// The model's structure as the configuration describes it.
absl::StatusOr<ModelSpec> ModelSpecFromConfig(const rpc::RunConfig& config);
// How every process reads the run's training file.
ReaderOptions ReaderOptionsFromConfig(const rpc::RunConfig& config);
// The run's learning-rate schedule; an unknown schedule name reads as
// constant (flags reject it before any config is built).
LrScheduleOptions LrScheduleFromConfig(const rpc::RunConfig& config);
RecencyOptions RecencyFromConfig(const rpc::RunConfig& config);
// Whether the run can train in windows (sync_every > 0, worker/windowed_mf.h):
// mf rating with sgd, asp, no replicas. InvalidArgument naming the flag
// that rules it out; OK when sync_every is 0.
absl::Status CheckSyncEvery(const rpc::RunConfig& config);

}  // namespace psrec

#endif  // PSREC_COMMON_CONFIG_PROTO_H_
