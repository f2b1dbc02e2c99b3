#include "common/run_fence.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace psrec {
namespace {

constexpr char kRefusal[] = "this server belongs to psrec run";

}  // namespace

grpc::Status CheckRunId(uint64_t request_run, uint64_t own_run) {
  if (request_run == 0 || own_run == 0 || request_run == own_run) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      absl::StrFormat("request of psrec run %016x, but %s %016x: its address was "
                                      "re-used by another run after this run's server died",
                                      request_run, kRefusal, own_run));
}

bool IsOtherRunRefusal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         absl::StrContains(s.error_message(), kRefusal);
}

}  // namespace psrec
