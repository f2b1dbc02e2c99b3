#include "worker/batch_assembler.h"

#include <cstring>

namespace psrec {

void BatchAssembler::Dedupe(absl::Span<const uint64_t> ids, Side* side) {
  side->index.clear();
  // clear() hands back a large map's memory; without this every batch grew
  // it again from empty (rehashing was ~5% of a worker's time at 8192).
  side->index.reserve(ids.size());
  side->keys.clear();
  side->slot.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto [it, inserted] = side->index.try_emplace(ids[i], static_cast<uint32_t>(side->keys.size()));
    if (inserted) side->keys.push_back(ids[i]);
    side->slot[i] = it->second;
  }
}

void BatchAssembler::Gather(const Side& side, uint32_t dim, float* out) {
  for (size_t i = 0; i < side.slot.size(); ++i) {
    std::memcpy(out + i * dim, side.rows.data() + static_cast<size_t>(side.slot[i]) * dim,
                dim * sizeof(float));
  }
}

void BatchAssembler::SumGrads(const Side& side, uint32_t dim, const std::vector<float>& per_example,
                              std::vector<float>* out) {
  out->assign(side.keys.size() * dim, 0.0f);
  for (size_t i = 0; i < side.slot.size(); ++i) {
    float* dst = out->data() + static_cast<size_t>(side.slot[i]) * dim;
    const float* src = per_example.data() + i * dim;
    for (uint32_t d = 0; d < dim; ++d) dst[d] += src[d];
  }
}

void BatchAssembler::CollectImplicitKeys() {
  Side& y = implicit_side_;
  y.index.clear();
  y.keys.clear();
  implicit_slots_.clear();
  implicit_begin_.assign(1, 0);
  for (uint64_t user : users_side_.keys) {
    for (uint64_t item : implicit_->Items(user)) {
      auto [it, inserted] = y.index.try_emplace(item, static_cast<uint32_t>(y.keys.size()));
      if (inserted) y.keys.push_back(item);
      implicit_slots_.push_back(it->second);
    }
    implicit_begin_.push_back(static_cast<uint32_t>(implicit_slots_.size()));
  }
}

void BatchAssembler::AddImplicitToUsers() {
  const ModelSpec& spec = model_->spec();
  const uint32_t ud = model_->user_dim(), yd = spec.implicit_dim;
  for (size_t u = 0; u < users_side_.keys.size(); ++u) {
    y_rows_.clear();
    for (uint32_t k = implicit_begin_[u]; k < implicit_begin_[u + 1]; ++k) {
      y_rows_.push_back(implicit_side_.rows.data() + static_cast<size_t>(implicit_slots_[k]) * yd);
    }
    AddImplicitTerm(y_rows_, yd, users_side_.rows.data() + u * ud + spec.bias);
  }
}

void BatchAssembler::ImplicitGrads() {
  const ModelSpec& spec = model_->spec();
  const uint32_t ud = model_->user_dim(), yd = spec.implicit_dim;
  std::vector<float>& out = implicit_side_.grad_sum;
  out.assign(implicit_side_.keys.size() * yd, 0.0f);
  for (size_t u = 0; u < users_side_.keys.size(); ++u) {
    const uint32_t n = implicit_begin_[u + 1] - implicit_begin_[u];
    const float norm = ImplicitNorm(n);
    const float* g = users_side_.grad_sum.data() + u * ud + spec.bias;
    for (uint32_t k = implicit_begin_[u]; k < implicit_begin_[u + 1]; ++k) {
      float* dst = out.data() + static_cast<size_t>(implicit_slots_[k]) * yd;
      for (uint32_t d = 0; d < yd; ++d) dst[d] += norm * g[d];
    }
  }
}

absl::Status BatchAssembler::Gather(absl::Span<const uint64_t> users,
                                    absl::Span<const uint64_t> items, bool read_only) {
  size_ = static_cast<int>(users.size());
  Dedupe(users, &users_side_);
  Dedupe(items, &items_side_);
  const uint32_t ud = model_->user_dim(), id = model_->item_dim();
  users_side_.rows.resize(users_side_.keys.size() * ud);
  items_side_.rows.resize(items_side_.keys.size() * id);
  users_side_.found.resize(users_side_.keys.size());
  items_side_.found.resize(items_side_.keys.size());

  const auto& dense_tables = model_->dense_tables();
  dense_.resize(dense_tables.size());
  std::vector<PullOp> ops;
  ops.push_back({kUserTable, users_side_.keys, users_side_.rows.data(), users_side_.found.data()});
  ops.push_back({kItemTable, items_side_.keys, items_side_.rows.data(), items_side_.found.data()});
  std::vector<uint8_t> dense_found(dense_tables.size());
  for (size_t t = 0; t < dense_tables.size(); ++t) {
    dense_[t].resize(dense_tables[t].dim);
    ops.push_back({dense_tables[t].id, absl::MakeConstSpan(&kDenseKey, 1), dense_[t].data(),
                   &dense_found[t]});
  }
  if (implicit_ != nullptr) {
    CollectImplicitKeys();
    Side& y = implicit_side_;
    y.rows.resize(y.keys.size() * model_->spec().implicit_dim);
    y.found.resize(y.keys.size());
    ops.push_back({model_->implicit_table().id, y.keys, y.rows.data(), y.found.data()});
  }
  if (auto s = ps_->Pull(ops, read_only); !s.ok()) return s;
  if (implicit_ != nullptr) AddImplicitToUsers();

  cold_users_ = cold_items_ = 0;
  if (read_only) {
    for (uint32_t s : users_side_.slot) cold_users_ += users_side_.found[s] ? 0 : 1;
    for (uint32_t s : items_side_.slot) cold_items_ += items_side_.found[s] ? 0 : 1;
  }
  users_side_.gathered.resize(static_cast<size_t>(size_) * ud);
  items_side_.gathered.resize(static_cast<size_t>(size_) * id);
  Gather(users_side_, ud, users_side_.gathered.data());
  Gather(items_side_, id, items_side_.gathered.data());
  return absl::OkStatus();
}

BatchView BatchAssembler::View(const float* labels) const {
  BatchView v;
  v.size = size_;
  v.users = users_side_.gathered.data();
  v.items = items_side_.gathered.data();
  v.labels = labels;
  for (const auto& d : dense_) v.dense.push_back(d.data());
  return v;
}

absl::Status BatchAssembler::Push(const BatchGrads& grads, float lr_scale) {
  SumGrads(users_side_, model_->user_dim(), grads.users, &users_side_.grad_sum);
  SumGrads(items_side_, model_->item_dim(), grads.items, &items_side_.grad_sum);
  std::vector<PushOp> ops;
  ops.push_back({kUserTable, users_side_.keys, users_side_.grad_sum.data()});
  ops.push_back({kItemTable, items_side_.keys, items_side_.grad_sum.data()});
  if (implicit_ != nullptr) {
    ImplicitGrads();
    ops.push_back({model_->implicit_table().id, implicit_side_.keys,
                   implicit_side_.grad_sum.data()});
  }
  const auto& dense_tables = model_->dense_tables();
  for (size_t t = 0; t < dense_tables.size() && t < grads.dense.size(); ++t) {
    ops.push_back({dense_tables[t].id, absl::MakeConstSpan(&kDenseKey, 1), grads.dense[t].data()});
  }
  for (PushOp& op : ops) op.lr_scale = lr_scale;
  return ps_->Push(ops);
}

}  // namespace psrec
