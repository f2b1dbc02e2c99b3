// gRPC answers a request it cannot parse INTERNAL ("the server failed"),
// before any service sees it. The sender is at fault, so every psrec server
// answers INVALID_ARGUMENT instead, via this server interceptor.
#ifndef PSREC_COMMON_MALFORMED_REQUEST_H_
#define PSREC_COMMON_MALFORMED_REQUEST_H_

#include <memory>

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace psrec {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMalformedRequestInterceptorFactory();

}  // namespace psrec

#endif  // PSREC_COMMON_MALFORMED_REQUEST_H_
