#include "common/config_proto.h"

#include "absl/strings/str_format.h"

namespace psrec {

rpc::TableSpec ToProto(const TableConfig& t) {
  rpc::TableSpec p;
  p.set_id(t.id);
  p.set_name(t.name);
  p.set_dim(t.dim);
  p.set_dense(t.dense);
  p.set_init_std(t.init_std);
  p.set_init_uniform(t.init_uniform);
  p.set_zero_prefix(t.zero_prefix);
  p.set_lr_scale(t.lr_scale);
  p.set_l2(t.l2);
  return p;
}

TableConfig FromProto(const rpc::TableSpec& p) {
  TableConfig t;
  t.id = p.id();
  t.name = p.name();
  t.dim = p.dim();
  t.dense = p.dense();
  t.init_std = p.init_std();
  t.init_uniform = p.init_uniform();
  t.zero_prefix = p.zero_prefix();
  t.lr_scale = p.lr_scale();
  t.l2 = p.l2();
  return t;
}

std::vector<TableConfig> TablesFromConfig(const rpc::RunConfig& config) {
  std::vector<TableConfig> tables;
  for (const auto& t : config.tables()) tables.push_back(FromProto(t));
  return tables;
}

absl::StatusOr<ModelSpec> ModelSpecFromConfig(const rpc::RunConfig& c) {
  ModelOptions o;
  o.model = c.model();
  o.dim = c.dim();
  o.mlp_dim = c.mlp_dim();
  o.layers.assign(c.layers().begin(), c.layers().end());
  o.activation = c.activation().empty() ? "relu" : c.activation();
  o.dropout = c.dropout();
  if (c.has_fusion_alpha()) o.alpha = c.fusion_alpha();
  o.implicit_feedback = c.implicit_feedback();
  return SpecFor(o);
}

ReaderOptions ReaderOptionsFromConfig(const rpc::RunConfig& c) {
  ReaderOptions o;
  o.format = c.format().empty() ? "auto" : c.format();
  o.delimiter = c.delimiter();
  o.header = c.header();
  o.user_col = c.user_col();
  o.item_col = c.item_col();
  o.rating_col = c.rating_col();
  o.timestamp_col = c.timestamp_col();
  o.implicit = c.task() == "ranking";
  return o;
}

LrScheduleOptions LrScheduleFromConfig(const rpc::RunConfig& c) {
  LrScheduleOptions o;
  o.kind = ParseLrScheduleKind(c.lr_schedule()).value_or(LrScheduleKind::kConstant);
  o.epochs = c.epochs();
  o.decay_every = c.lr_decay_every();
  o.decay_rate = c.lr_decay_rate();
  o.min_ratio = c.lr_min_ratio();
  o.warmup_epochs = c.warmup_epochs();
  return o;
}

RecencyOptions RecencyFromConfig(const rpc::RunConfig& c) {
  RecencyOptions o;
  o.weight = c.recency_weight();
  if (c.recency_halflife() > 0) o.halflife = c.recency_halflife();
  return o;
}

absl::Status CheckSyncEvery(const rpc::RunConfig& c) {
  if (c.sync_every() == 0) return absl::OkStatus();
  const std::string flag = absl::StrFormat("--sync_every=%d", c.sync_every());
  if (c.model() != "mf" || c.task() != "rating") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s trains --model=mf on ratings only (got --model=%s --task=%s)", flag, c.model(),
        c.task()));
  }
  if (c.optimizer() != "sgd") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s needs --optimizer=sgd (got %s): a worker's own steps would bypass the per-row "
        "state adagrad and adam keep on the servers",
        flag, c.optimizer()));
  }
  if (!c.consistency().empty() && c.consistency() != "asp") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s takes no --consistency=%s: a window is many batches, not one clock", flag,
        c.consistency()));
  }
  if (c.replicas() >= 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s takes no --replicas=%d (windows are not combined with replication yet)", flag,
        c.replicas()));
  }
  if (c.recency_weight() > 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s takes no --recency_weight=%g (a window's own steps are unweighted); pass "
        "--recency_weight=0",
        flag, c.recency_weight()));
  }
  return absl::OkStatus();
}

}  // namespace psrec
