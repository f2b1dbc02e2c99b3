#include "common/rpc_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/health.h"
#include "common/malformed_request.h"
#include "common/rpc_util.h"
#include "proto/psrec.pb.h"

namespace psrec {
namespace {

// Lives for one call: counts it, its rows and its latency.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  // Which requests carry keys (their rows are counted).
  enum class Keyed { kNone, kPull, kPush, kPullBatch, kPushBatch };

  MetricsInterceptor(const RpcMetrics* metrics, const RpcMetrics::Method* method, Keyed keyed)
      : metrics_(metrics), method_(method), keyed_(keyed), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // The message is the request type of the method this interceptor was
      // made for; keys are packed uint64.
      if (const void* m = methods->GetRecvMessage(); m != nullptr) {
        method_->rows->Add(Rows(m));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      (status.ok() ? method_->ok : method_->failed)->Add();
      if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        metrics_->invalid_argument()->Add();
      } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        metrics_->resource_exhausted()->Add();
      }
      method_->latency->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  uint64_t Rows(const void* m) const {
    uint64_t bytes = 0;
    switch (keyed_) {
      case Keyed::kNone:
        break;
      case Keyed::kPull:
        bytes = static_cast<const rpc::PullRequest*>(m)->keys().size();
        break;
      case Keyed::kPush:
        bytes = static_cast<const rpc::PushRequest*>(m)->keys().size();
        break;
      case Keyed::kPullBatch:
        for (const auto& r : static_cast<const rpc::PullBatchRequest*>(m)->requests()) {
          bytes += r.keys().size();
        }
        break;
      case Keyed::kPushBatch:
        for (const auto& r : static_cast<const rpc::PushBatchRequest*>(m)->requests()) {
          bytes += r.keys().size();
        }
        break;
    }
    return bytes / sizeof(uint64_t);
  }

  const RpcMetrics* metrics_;
  const RpcMetrics::Method* method_;
  const Keyed keyed_;
  const absl::Time start_;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(const RpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const std::string method = info->method() != nullptr ? info->method() : "";
    const RpcMetrics::Method* m = metrics_->Find(method);
    if (m == nullptr) return nullptr;  // health checks and unknown methods
    using Keyed = MetricsInterceptor::Keyed;
    constexpr absl::string_view kPs = "/psrec.rpc.ParameterServer/";
    Keyed keyed = Keyed::kNone;
    if (method == absl::StrCat(kPs, "Pull")) keyed = Keyed::kPull;
    if (method == absl::StrCat(kPs, "Push")) keyed = Keyed::kPush;
    if (method == absl::StrCat(kPs, "PullBatch")) keyed = Keyed::kPullBatch;
    if (method == absl::StrCat(kPs, "PushBatch")) keyed = Keyed::kPushBatch;
    return new MetricsInterceptor(metrics_, m, keyed);
  }

 private:
  const RpcMetrics* metrics_;
};

}  // namespace

RpcMetrics::RpcMetrics(PrometheusRegistry* registry, const std::vector<std::string>& services) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& service_name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(service_name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string name = service->method(i)->name();
      const std::string labels =
          absl::StrCat("service=\"", service->name(), "\",method=\"", name, "\"");
      Method m;
      m.ok = registry->AddCounter("psrec_rpc_requests_total",
                                  "gRPC requests served, by method and result.",
                                  labels + ",result=\"ok\"");
      m.failed = registry->AddCounter("psrec_rpc_requests_total",
                                      "gRPC requests served, by method and result.",
                                      labels + ",result=\"error\"");
      m.rows = registry->AddCounter("psrec_rpc_rows_total",
                                    "Keys (embedding rows) received in pulls and pushes.", labels);
      m.latency = registry->AddHistogram("psrec_rpc_request_seconds",
                                         "Time from a request's arrival to its status, seconds.",
                                         labels, LatencyBucketsSeconds());
      methods_[absl::StrCat("/", service_name, "/", name)] = m;
    }
  }
  constexpr char kRefusedHelp[] =
      "Calls refused: by the token check before any service saw them (no_token, wrong_token), "
      "or answered INVALID_ARGUMENT or RESOURCE_EXHAUSTED (a request over a limit).";
  invalid_argument_ =
      registry->AddCounter("psrec_rpc_refused_total", kRefusedHelp, "reason=\"invalid_argument\"");
  resource_exhausted_ = registry->AddCounter("psrec_rpc_refused_total", kRefusedHelp,
                                             "reason=\"resource_exhausted\"");
  no_token_ = registry->AddCounter("psrec_rpc_refused_total", kRefusedHelp, "reason=\"no_token\"");
  wrong_token_ =
      registry->AddCounter("psrec_rpc_refused_total", kRefusedHelp, "reason=\"wrong_token\"");
}

const RpcMetrics::Method* RpcMetrics::Find(const std::string& full_method) const {
  auto it = methods_.find(full_method);
  return it == methods_.end() ? nullptr : &it->second;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::MakeInterceptorFactory() const {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServerWithMetrics(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, int* bound_port,
    const RpcMetrics* metrics, const RpcOptions& rpc) {
  EnableHealthService();
  grpc::ServerBuilder builder;
  ConfigureServerBuilder(&builder, rpc);
  const std::string address = absl::StrCat(host, ":", port);
  builder.AddListeningPort(
      address,
      MakeServerCredentials(rpc.security,
                            metrics != nullptr ? metrics->auth_refusals() : AuthRefusalCounters{}),
      bound_port);
  for (grpc::Service* s : services) builder.RegisterService(s);
  if (services.empty()) {
    // gRPC refuses to start a server with no method of its own, and the
    // built-in health service does not count; a worker serves only health.
    // This answers every other method UNIMPLEMENTED. Stateless, shared.
    static grpc::CallbackGenericService* const unimplemented = new grpc::CallbackGenericService;
    builder.RegisterCallbackGenericService(unimplemented);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  // First, so that the metrics record the status it gives.
  creators.push_back(MakeMalformedRequestInterceptorFactory());
  if (metrics != nullptr) creators.push_back(metrics->MakeInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *bound_port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, " (address in use, or not an address of this host?)"));
  }
  // gRPC's health service starts SERVING; a role is not ready until it says so.
  SetServing(server.get(), false);
  return server;
}

}  // namespace psrec
