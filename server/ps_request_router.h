// Where a server's ParameterServer requests go when the server holds more
// than one logical shard (replication): ParameterServerService hands them to
// a router, which picks the shard replica and applies fencing.
#ifndef PSREC_SERVER_PS_REQUEST_ROUTER_H_
#define PSREC_SERVER_PS_REQUEST_ROUTER_H_

#include <grpcpp/grpcpp.h>

#include "proto/psrec.pb.h"

namespace psrec {

class PsRequestRouter {
 public:
  virtual ~PsRequestRouter() = default;
  virtual grpc::Status Pull(grpc::ServerContext*, const rpc::PullRequest*,
                            rpc::PullResponse*) = 0;
  virtual grpc::Status Push(grpc::ServerContext*, const rpc::PushRequest*,
                            rpc::PushResponse*) = 0;
  virtual grpc::Status Stats(grpc::ServerContext*, const rpc::StatsRequest*,
                             rpc::StatsResponse*) = 0;
  virtual grpc::Status Save(grpc::ServerContext*, const rpc::SaveRequest*,
                            rpc::SaveResponse*) = 0;
};

}  // namespace psrec

#endif  // PSREC_SERVER_PS_REQUEST_ROUTER_H_
