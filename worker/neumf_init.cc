#include "worker/neumf_init.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

// Rows per assigning push: a few MB per request, far below the message limit.
constexpr size_t kRowsPerPush = 8192;

// One source model: its rows' [begin, begin + width) go to the neumf rows'
// [to, to + width); its output tensor's bias and h go to the neumf head `head`.
struct Branch {
  std::string flag;  // "--init_gmf"
  std::unique_ptr<SavedModel> saved;
  uint32_t begin = 0, width = 0, to = 0;
  uint32_t head = 0;
};

absl::Status Mismatch(const Branch& b, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s=%s: %s", b.flag, b.saved->dir(), what));
}

absl::StatusOr<Branch> LoadBranch(const std::string& flag, const std::string& dir,
                                  const std::string& model, const ModelSpec& neumf) {
  auto saved = SavedModel::Load(dir);
  if (!saved.ok()) {
    return absl::Status(saved.status().code(),
                        absl::StrFormat("%s=%s: %s", flag, dir, saved.status().message()));
  }
  Branch b;
  b.flag = flag;
  b.saved = std::move(*saved);
  const ModelSpec& s = b.saved->model().spec();
  if (s.model != model) {
    return Mismatch(b, absl::StrFormat("a --model=%s model; %s takes a --model=%s model directory",
                                       s.model, flag, model));
  }
  if (model == "gmf") {
    if (s.gmf_dim != neumf.gmf_dim) {
      return Mismatch(b, absl::StrFormat("its factors have %d floats, this neumf's GMF branch %d "
                                         "(pass --dim=%d)",
                                         s.gmf_dim, neumf.gmf_dim, s.gmf_dim));
    }
    b.begin = s.bias + s.dot_dim;
    b.width = s.gmf_dim;
    b.to = neumf.bias + neumf.dot_dim;
    b.head = 0;
    return b;
  }
  if (s.mlp_dim != neumf.mlp_dim) {
    return Mismatch(b, absl::StrFormat("its factors have %d floats, this neumf's MLP branch %d "
                                       "(pass --mlp_dim=%d)",
                                       s.mlp_dim, neumf.mlp_dim, s.mlp_dim));
  }
  if (s.layers != neumf.layers) {
    return Mismatch(b, absl::StrFormat("its tower is %s, this neumf's %s (pass --layers=%s)",
                                       absl::StrJoin(s.layers, ","),
                                       absl::StrJoin(neumf.layers, ","),
                                       absl::StrJoin(s.layers, ",")));
  }
  if (s.activation != neumf.activation) {
    return Mismatch(b, absl::StrFormat("its tower uses %s, this neumf's %s (pass --activation=%s)",
                                       s.activation, neumf.activation, s.activation));
  }
  b.begin = s.bias + s.dot_dim + s.gmf_dim;
  b.width = s.mlp_dim;
  b.to = neumf.bias + neumf.dot_dim + neumf.gmf_dim;
  b.head = 1;
  return b;
}

// The sorted union of the branches' ids of `table`.
std::vector<uint64_t> UnionOfIds(const std::vector<Branch>& branches, uint32_t table) {
  std::vector<uint64_t> ids;
  for (const Branch& b : branches) {
    std::vector<uint64_t> more = b.saved->SortedIds(table);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

absl::Status AssignRows(uint32_t table, absl::Span<const uint64_t> ids, const float* rows,
                        uint32_t dim, PsClient* ps) {
  for (size_t start = 0; start < ids.size(); start += kRowsPerPush) {
    const size_t n = std::min(kRowsPerPush, ids.size() - start);
    PushOp op{table, ids.subspan(start, n), rows + start * dim};
    op.assign = true;
    if (auto s = ps->Push({&op, 1}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The neumf rows of `table` for every id a branch has: the run's own values
// (created with its initialisation), each branch's part overwritten.
absl::StatusOr<uint64_t> InitRows(const std::vector<Branch>& branches, uint32_t table,
                                  uint32_t dim, PsClient* ps) {
  const std::vector<uint64_t> ids = UnionOfIds(branches, table);
  std::vector<float> rows(ids.size() * dim);
  PullOp pull{table, ids, rows.data()};
  if (auto s = ps->Pull({&pull, 1}, /*read_only=*/false); !s.ok()) return s;
  for (const Branch& b : branches) {
    const uint32_t src_dim = b.saved->model().spec().row_dim();
    std::vector<float> src(ids.size() * src_dim);
    std::vector<uint8_t> found(ids.size());
    PullOp op{table, ids, src.data(), found.data()};
    if (auto s = b.saved->ps()->Pull({&op, 1}, /*read_only=*/true); !s.ok()) return s;
    for (size_t r = 0; r < ids.size(); ++r) {
      if (!found[r]) continue;
      std::copy_n(src.data() + r * src_dim + b.begin, b.width, rows.data() + r * dim + b.to);
    }
  }
  if (auto s = AssignRows(table, ids, rows.data(), dim, ps); !s.ok()) return s;
  return ids.size();
}

// A branch's dense tensor `src_table`, read from its model.
absl::StatusOr<std::vector<float>> SavedDense(const Branch& b, const TableConfig& src_table) {
  std::vector<float> values(src_table.dim);
  uint8_t found = 0;
  PullOp op{src_table.id, absl::MakeConstSpan(&kDenseKey, 1), values.data(), &found};
  if (auto s = b.saved->ps()->Pull({&op, 1}, /*read_only=*/true); !s.ok()) return s;
  if (!found) return Mismatch(b, absl::StrFormat("the model has no %s tensor", src_table.name));
  return values;
}

absl::Status InitDense(const Model& neumf, const std::vector<Branch>& branches, PsClient* ps) {
  const ModelSpec& spec = neumf.spec();
  const std::vector<TableConfig>& dense = neumf.dense_tables();
  const TableConfig& out_table = dense.back();
  std::vector<float> out(out_table.dim);
  PullOp pull{out_table.id, absl::MakeConstSpan(&kDenseKey, 1), out.data()};
  if (auto s = ps->Pull({&pull, 1}, /*read_only=*/false); !s.ok()) return s;
  for (const Branch& b : branches) {
    const std::vector<TableConfig>& src = b.saved->model().dense_tables();
    if (b.head == 1) {
      // The tower: the same layers (LoadBranch checked), tensor by tensor.
      for (size_t l = 0; l < spec.layers.size(); ++l) {
        auto values = SavedDense(b, src[l]);
        if (!values.ok()) return values.status();
        if (auto s = AssignRows(dense[l].id, absl::MakeConstSpan(&kDenseKey, 1), values->data(),
                                dense[l].dim, ps);
            !s.ok()) {
          return s;
        }
      }
    }
    // A one-head output [b, h over z] becomes this head's bias and h.
    auto src_out = SavedDense(b, src.back());
    if (!src_out.ok()) return src_out.status();
    const uint32_t width = spec.head_width(b.head);
    out[b.head] = (*src_out)[0];
    std::copy_n(src_out->data() + 1, width, out.data() + spec.heads() + spec.head_begin(b.head));
  }
  return AssignRows(out_table.id, absl::MakeConstSpan(&kDenseKey, 1), out.data(), out_table.dim,
                    ps);
}

}  // namespace

absl::StatusOr<NeuMfInitCounts> InitNeuMfFromSavedModels(const Model& neumf,
                                                         const NeuMfInitDirs& dirs, PsClient* ps) {
  const ModelSpec& spec = neumf.spec();
  if (spec.heads() != 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--init_gmf/--init_mlp: only --model=neumf has GMF and MLP branches to initialise, not %s",
        spec.model));
  }
  std::vector<Branch> branches;
  if (!dirs.gmf.empty()) {
    auto b = LoadBranch("--init_gmf", dirs.gmf, "gmf", spec);
    if (!b.ok()) return b.status();
    branches.push_back(std::move(*b));
  }
  if (!dirs.mlp.empty()) {
    auto b = LoadBranch("--init_mlp", dirs.mlp, "mlp", spec);
    if (!b.ok()) return b.status();
    branches.push_back(std::move(*b));
  }
  NeuMfInitCounts counts;
  if (branches.empty()) return counts;
  auto users = InitRows(branches, kUserTable, spec.row_dim(), ps);
  if (!users.ok()) return users.status();
  auto items = InitRows(branches, kItemTable, spec.row_dim(), ps);
  if (!items.ok()) return items.status();
  if (auto s = InitDense(neumf, branches, ps); !s.ok()) return s;
  counts.users = *users;
  counts.items = *items;
  return counts;
}

}  // namespace psrec
