// Run-identity fencing (rpc::ShardMap.run_id). A server's host:port can be
// re-used by another psrec cluster once the server dies, e.g. when two runs
// share a machine. Every pull, push and save names its run, and a server of
// another run refuses it instead of applying it to that run's tables.
#ifndef PSREC_COMMON_RUN_FENCE_H_
#define PSREC_COMMON_RUN_FENCE_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>

namespace psrec {

// OK when either id is 0 (not checked: a tool or a test talking to a server
// directly) or both are equal; else FAILED_PRECONDITION, which clients
// treat like a stale shard map: they fetch the map and route again.
grpc::Status CheckRunId(uint64_t request_run, uint64_t own_run);

// The refusal CheckRunId returns.
bool IsOtherRunRefusal(const grpc::Status& s);

}  // namespace psrec

#endif  // PSREC_COMMON_RUN_FENCE_H_
