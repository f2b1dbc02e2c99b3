// CoordinatorState's handlers (Register, Heartbeat, AcquireLease,
// CompleteLease, Gate, and the Status/GetShardMap readers) called with a
// sequence of protos parsed from the fuzz bytes, on a state whose server
// count, epochs, data shards, gating and lease timeout the input chooses.
// Checks the bookkeeping stays consistent (no epoch counts more done shards
// than it has, leases are granted only for shards that exist) and that a run
// can always be finished by a live worker.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coordinator/coordinator_state.h"
#include "tests/fuzz/fuzz_util.h"

namespace psrec::fuzz {
namespace {

template <typename Proto>
bool ParseNext(FuzzInput& in, Proto* msg) {
  return msg->ParseFromString(in.Bytes(in.Byte()));
}

void CheckStatus(const CoordinatorState& state, const LeaseOptions& lease) {
  const rpc::StatusResponse s = state.Status();
  FUZZ_CHECK(s.epochs() == lease.epochs, "status: epochs");
  FUZZ_CHECK(s.current_epoch() <= s.epochs(), "status: current epoch past the last");
  for (const rpc::EpochSummary& h : s.history()) {
    FUZZ_CHECK(h.done_shards() <= lease.data_shards,
               absl::StrCat("epoch ", h.epoch(), ": ", h.done_shards(), " of ", lease.data_shards,
                            " shards done"));
  }
  const rpc::ShardMapResponse map = state.GetShardMap();
  if (map.ready()) {
    FUZZ_CHECK(static_cast<uint32_t>(map.map().server_addresses_size()) == s.expected_servers(),
               "shard map: server count");
  }
  (void)state.done();
  (void)state.lease_counters();
}

// With a zero lease timeout every silent worker's lease is free to take, so
// one new worker that leases and completes shards must finish the run,
// whatever the requests before it did.
void CheckRunCanFinish(CoordinatorState& state, const LeaseOptions& lease) {
  rpc::RegisterRequest req;
  req.set_protocol_version(rpc::PROTOCOL_VERSION_CURRENT);
  req.set_role(rpc::ROLE_WORKER);
  auto reg = state.Register(req);
  if (!reg.ok()) return;  // no worker id left: the input used them all
  const uint32_t worker = reg->id();
  state.Gate(lease.epochs, false);
  for (uint32_t i = 0; i < 4 * lease.epochs * (lease.data_shards + 1) && !state.done(); ++i) {
    const rpc::LeaseResponse r = state.AcquireLease(worker);
    if (r.kind() != rpc::LeaseResponse::LEASE) continue;
    rpc::CompleteRequest done;
    done.set_worker_id(worker);
    done.set_epoch(r.epoch());
    done.set_shard(r.shard());
    FUZZ_CHECK(state.CompleteLease(done).ok(), "completing a granted lease failed");
  }
  FUZZ_CHECK(state.done(), "a live worker cannot finish the run: a lease is stuck");
}

}  // namespace
}  // namespace psrec::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  // Expired leases log a warning each; at thousands of runs a second that
  // is most of the time spent.
  static const bool quiet = (spdlog::set_level(spdlog::level::err), true);
  (void)quiet;
  FuzzInput in(data, size);
  const uint8_t shape = in.Byte();
  LeaseOptions lease;
  lease.epochs = 1 + shape % 3;
  lease.data_shards = (shape >> 2) % 5;  // 0 included
  lease.gated = shape & 0x20;
  // 0 s: every lease expires at once, which exercises re-leasing.
  lease.lease_timeout = (shape & 0x40) ? absl::ZeroDuration() : absl::Seconds(30);
  const uint32_t servers = 1 + in.Byte() % 4;
  rpc::RunConfig config;
  config.set_model("mf");
  CoordinatorState state(config, servers, lease);
  for (int ops = 0; ops < 64 && !in.empty(); ++ops) {
    const uint8_t op = in.Byte();
    switch (op % 7) {
      case 0: {
        rpc::RegisterRequest req;
        if (!ParseNext(in, &req)) break;
        // Usually the right version, so the rest of the request is looked at.
        if (op & 0x80) req.set_protocol_version(rpc::PROTOCOL_VERSION_CURRENT);
        (void)state.Register(req);
        break;
      }
      case 1: {
        rpc::HeartbeatRequest req;
        if (ParseNext(in, &req)) state.Heartbeat(req.role(), req.id(), req.progress());
        break;
      }
      case 2: {
        rpc::LeaseRequest req;
        if (!ParseNext(in, &req)) break;
        const rpc::LeaseResponse r = state.AcquireLease(req.worker_id());
        if (r.kind() == rpc::LeaseResponse::LEASE) {
          FUZZ_CHECK(r.epoch() < lease.epochs && r.shard() < lease.data_shards,
                     absl::StrCat("leased epoch ", r.epoch(), " shard ", r.shard()));
        }
        break;
      }
      case 3: {
        rpc::CompleteRequest req;
        if (ParseNext(in, &req)) (void)state.CompleteLease(req);
        break;
      }
      case 4: {
        rpc::GateRequest req;
        if (ParseNext(in, &req)) state.Gate(req.epochs_allowed(), req.stop());
        break;
      }
      case 5: {  // a worker that leases and completes what it got
        const uint32_t worker = in.Byte() % 4;
        const rpc::LeaseResponse r = state.AcquireLease(worker);
        if (r.kind() != rpc::LeaseResponse::LEASE) break;
        rpc::CompleteRequest req;
        req.set_worker_id(worker);
        req.set_epoch(r.epoch());
        req.set_shard(r.shard());
        req.set_examples(in.Byte());
        req.set_loss_sum(in.Float());
        FUZZ_CHECK(state.CompleteLease(req).ok(), "completing a granted lease failed");
        break;
      }
      case 6:
        CheckStatus(state, lease);
        break;
    }
  }
  CheckStatus(state, lease);
  if (lease.lease_timeout == absl::ZeroDuration()) CheckRunCanFinish(state, lease);
  return 0;
}
