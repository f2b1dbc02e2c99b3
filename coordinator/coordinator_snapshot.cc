#include "coordinator/coordinator_snapshot.h"

#include <dirent.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/shard_map.h"
#include "coordinator/coordinator_state.h"

namespace psrec {
namespace {

constexpr char kMagic[8] = {'P', 'S', 'R', 'E', 'C', 'C', 'S', '1'};
constexpr size_t kFixedBytes = 24;

}  // namespace

absl::Status WriteCoordinatorSnapshot(const std::string& path,
                                      const rpc::CoordinatorSnapshot& snapshot) {
  const std::string payload = snapshot.SerializeAsString();
  std::string file(kMagic, sizeof(kMagic));
  const uint32_t version = kCoordinatorSnapshotVersion;
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  const uint64_t size = payload.size();
  file.append(reinterpret_cast<const char*>(&version), sizeof(version));
  file.append(reinterpret_cast<const char*>(&crc), sizeof(crc));
  file.append(reinterpret_cast<const char*>(&size), sizeof(size));
  file += payload;
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos) {
    if (auto s = MakeDirs(path.substr(0, slash)); !s.ok()) return s;
  }
  return WriteFileAtomically(path, file);
}

absl::StatusOr<rpc::CoordinatorSnapshot> ReadCoordinatorSnapshot(const std::string& path) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  if (data->size() < kFixedBytes || std::memcmp(data->data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: not a whole coordinator state file (%d bytes)", path, data->size()));
  }
  uint32_t version, crc;
  uint64_t size;
  std::memcpy(&version, data->data() + 8, sizeof(version));
  std::memcpy(&crc, data->data() + 12, sizeof(crc));
  std::memcpy(&size, data->data() + 16, sizeof(size));
  if (version != kCoordinatorSnapshotVersion) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: coordinator state format %d, this psrec reads %d", path, version,
                        kCoordinatorSnapshotVersion));
  }
  if (size != data->size() - kFixedBytes) {
    return absl::DataLossError(absl::StrFormat("%s: torn: %d payload bytes, its header says %d",
                                               path, data->size() - kFixedBytes, size));
  }
  const char* payload = data->data() + kFixedBytes;
  const uint32_t computed =
      static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(payload), size));
  rpc::CoordinatorSnapshot snapshot;
  if (computed != crc || !snapshot.ParseFromArray(payload, static_cast<int>(size))) {
    return absl::DataLossError(
        absl::StrFormat("%s: checksum mismatch (stored %08x, computed %08x): the file is damaged",
                        path, crc, computed));
  }
  return snapshot;
}

std::string CoordinatorStatePath(const std::string& dir) { return dir + "/coordinator/state.pscs"; }

std::string CoordinatorRoundPath(const std::string& dir, uint64_t round) {
  return absl::StrFormat("%s/coordinator/round-%06d.pscs", dir, round);
}

std::vector<uint64_t> CoordinatorRounds(const std::string& dir) {
  std::vector<uint64_t> rounds;
  DIR* d = ::opendir((dir + "/coordinator").c_str());
  if (d == nullptr) return rounds;
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    uint64_t r = 0;
    if (absl::ConsumePrefix(&name, "round-") && absl::ConsumeSuffix(&name, ".pscs") &&
        absl::SimpleAtoi(name, &r)) {
      rounds.push_back(r);
    }
  }
  ::closedir(d);
  std::sort(rounds.begin(), rounds.end());
  return rounds;
}

std::vector<std::string> ConfigDifferences(const rpc::RunConfig& saved, const rpc::RunConfig& now) {
  std::vector<std::string> out;
  const google::protobuf::Descriptor* d = rpc::RunConfig::descriptor();
  const google::protobuf::Reflection* r = rpc::RunConfig::GetReflection();
  // Field by field through a one-field copy: equal serializations, equal values.
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    // How often to checkpoint may change between a run and its resume; the
    // item list is left out of saved states (num_interactions stands for it).
    if (f->name().rfind("checkpoint_", 0) == 0 || f->name() == "item_ids") continue;
    rpc::RunConfig a, b;
    a.CopyFrom(saved);
    b.CopyFrom(now);
    for (int j = 0; j < d->field_count(); ++j) {
      if (j == i) continue;
      r->ClearField(&a, d->field(j));
      r->ClearField(&b, d->field(j));
    }
    if (a.SerializeAsString() != b.SerializeAsString()) out.push_back(f->name());
  }
  return out;
}

uint64_t ExpectedEpochExamples(const rpc::RunConfig& config) {
  const uint64_t positives = config.num_interactions();
  if (config.task() != "ranking") return positives;
  if (config.loss() == "bpr") return positives * config.negatives();
  return positives * (1 + uint64_t{config.negatives()});
}

// ---- CoordinatorState's durability members ----------------------------------

void CoordinatorState::CountRelease(EpochState& e, uint32_t epoch, uint32_t shard,
                                    uint32_t worker) {
  ++e.releases;
  if (worker >= worker_records_.size()) return;
  const rpc::LeaseProgress& p = worker_records_[worker].progress;
  if (p.leased() && p.epoch() == epoch && p.shard() == shard) {
    e.duplicate_examples += std::min(p.examples_done(), p.shard_examples());
  }
}

rpc::CoordinatorSnapshot CoordinatorState::Snapshot() const {
  absl::MutexLock lock(&mu_);
  rpc::CoordinatorSnapshot s;
  *s.mutable_config() = config_;
  s.mutable_config()->clear_item_ids();  // recomputed from the training file
  s.set_expected_servers(expected_servers_);
  s.set_run_id(run_id_);
  for (uint32_t i = 0; i < expected_servers_; ++i) {
    s.add_server_addresses(server_addresses_[i]);
    s.add_server_metrics_ports(server_metrics_ports_[i]);
  }
  for (uint32_t i = 0; i < worker_seen_.size(); ++i) {
    rpc::SnapshotWorker* w = s.add_workers();
    w->set_id(i);
    w->set_seen(worker_seen_[i] != absl::InfinitePast());
    w->set_shards_completed(worker_records_[i].shards_completed);
    w->set_examples_completed(worker_records_[i].examples_completed);
  }
  const absl::Time now = absl::Now();
  for (const EpochState& e : epochs_) {
    rpc::SnapshotEpoch* se = s.add_epochs();
    for (const ShardSlot& slot : e.shards) se->add_shard_done(slot.phase == ShardPhase::kDone);
    se->set_examples(e.examples);
    se->set_loss_sum(e.loss_sum);
    se->set_started(e.start != absl::InfinitePast());
    const bool complete = e.done_shards == lease_.data_shards;
    se->set_seconds(complete || !se->started() ? e.seconds : absl::ToDoubleSeconds(now - e.start));
    se->set_duplicate_examples(e.duplicate_examples);
    se->set_releases(e.releases);
  }
  s.set_epochs_allowed(epochs_allowed_);
  s.set_stopped(stopped_);
  s.set_leases_granted(lease_counters_.granted);
  s.set_leases_expired(lease_counters_.expired);
  s.set_leases_completed(lease_counters_.completed);
  return s;
}

absl::Status CoordinatorState::Restore(const rpc::CoordinatorSnapshot& s, bool keep_membership) {
  absl::MutexLock lock(&mu_);
  if (s.epochs_size() != static_cast<int>(epochs_.size()) ||
      s.expected_servers() != expected_servers_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the saved state has %d epochs and %d servers, this run %d and %d",
                        s.epochs_size(), s.expected_servers(), epochs_.size(), expected_servers_));
  }
  const absl::Time now = absl::Now();
  for (size_t i = 0; i < epochs_.size(); ++i) {
    const rpc::SnapshotEpoch& se = s.epochs(static_cast<int>(i));
    EpochState& e = epochs_[i];
    if (se.shard_done_size() != static_cast<int>(e.shards.size())) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the saved state has %d data shards per epoch, this run %d (--data_shards)",
          se.shard_done_size(), e.shards.size()));
    }
    e.done_shards = 0;
    for (size_t k = 0; k < e.shards.size(); ++k) {
      e.shards[k] = {};
      if (se.shard_done(static_cast<int>(k))) {
        e.shards[k].phase = ShardPhase::kDone;
        ++e.done_shards;
      }
    }
    e.examples = se.examples();
    e.loss_sum = se.loss_sum();
    e.seconds = se.seconds();
    e.start = se.started() ? now - absl::Seconds(se.seconds()) : absl::InfinitePast();
    e.duplicate_examples = se.duplicate_examples();
    e.releases = se.releases();
  }
  epochs_allowed_ = std::max(epochs_allowed_, s.epochs_allowed());
  stopped_ = s.stopped();
  lease_counters_ = {s.leases_granted(), s.leases_expired(), s.leases_completed()};
  // A resumed run starts every process afresh under a new id, so the crashed
  // run's stragglers are refused; a restarted coordinator's servers and
  // workers live on and keep checking the id they have.
  if (!keep_membership) return absl::OkStatus();
  if (s.run_id() != 0) run_id_ = s.run_id();
  // Servers and workers are still up: they keep their indexes and ids, and
  // count as seen now so that none is expired for the coordinator's absence.
  registered_servers_ = 0;
  for (uint32_t i = 0;
       i < expected_servers_ && i < static_cast<uint32_t>(s.server_addresses_size()); ++i) {
    server_addresses_[i] = s.server_addresses(static_cast<int>(i));
    server_metrics_ports_[i] = i < static_cast<uint32_t>(s.server_metrics_ports_size())
                                   ? s.server_metrics_ports(static_cast<int>(i))
                                   : 0;
    registered_servers_ += !server_addresses_[i].empty();
  }
  if (registered_servers_ == expected_servers_) {
    Ring ring = Ring::Build(expected_servers_);
    ring_positions_ = ring.positions();
    ring_owners_ = ring.owners();
    map_version_ = 1;
  }
  worker_seen_.assign(s.workers_size(), absl::InfinitePast());
  worker_records_.assign(s.workers_size(), WorkerRecord{});
  for (const rpc::SnapshotWorker& w : s.workers()) {
    if (w.id() >= worker_seen_.size()) continue;
    if (w.seen()) worker_seen_[w.id()] = now;
    worker_records_[w.id()].shards_completed = w.shards_completed();
    worker_records_[w.id()].examples_completed = w.examples_completed();
  }
  return absl::OkStatus();
}

void CoordinatorState::FillCoverage(rpc::StatusResponse* resp) const {
  absl::MutexLock lock(&mu_);
  const uint64_t expected = ExpectedEpochExamples(config_);
  for (uint32_t i = 0; i < epochs_.size(); ++i) {
    const EpochState& e = epochs_[i];
    if (e.start == absl::InfinitePast()) break;
    rpc::EpochCoverage* c = resp->add_coverage();
    c->set_epoch(i);
    c->set_examples_once(e.examples);
    c->set_expected_examples(expected);
    c->set_duplicate_examples(e.duplicate_examples);
    c->set_releases(e.releases);
    c->set_complete(e.done_shards == lease_.data_shards);
  }
}

}  // namespace psrec
