#include "cli/recommend.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/data_reader.h"
#include "common/item_titles.h"
#include "common/model_spec.h"
#include "worker/recommender.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

using ItemSets = absl::flat_hash_map<uint64_t, absl::flat_hash_set<uint64_t>>;

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "psrec recommend: %s\n", std::string(s.message()).c_str());
  return 1;
}

// One user id per line; blank lines are skipped.
absl::StatusOr<std::vector<uint64_t>> ReadUserIds(const std::string& path) {
  auto text = ReadFileMaybeGz(path);
  if (!text.ok()) return text.status();
  std::vector<uint64_t> users;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    uint64_t user;
    if (!absl::SimpleAtoi(line, &user)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s:%d: '%s' is not a user id (one unsigned integer per line)", path, line_no, line));
    }
    users.push_back(user);
  }
  return users;
}

// The items each of `users` has in the exclusion file.
absl::StatusOr<ItemSets> ReadExcluded(const RecommendOptions& o,
                                      const std::vector<uint64_t>& users) {
  ItemSets seen;
  if (o.exclude_path.empty()) return seen;
  auto data = ReadInteractions(o.exclude_path, o.exclude_reader);
  if (!data.ok()) return data.status();
  for (uint64_t u : users) seen[u];
  for (const Interaction& x : *data) {
    auto it = seen.find(x.user);
    if (it != seen.end()) it->second.insert(x.item);
  }
  return seen;
}

std::string UnknownUser(uint64_t user) {
  return absl::StrFormat("user %d is not in the model: it never appeared in training", user);
}

}  // namespace

int RunRecommend(const RecommendOptions& o) {
  auto saved = SavedModel::Load(o.model_dir);
  if (!saved.ok()) return Fail(saved.status());
  std::vector<uint64_t> users;
  if (o.has_user) {
    users.push_back(o.user);
  } else {
    auto read = ReadUserIds(o.users_path);
    if (!read.ok()) return Fail(read.status());
    users = std::move(*read);
  }
  ItemTitles titles;
  if (!o.items_path.empty()) {
    auto read = ReadItemTitles(o.items_path);
    if (!read.ok()) return Fail(read.status());
    titles = std::move(*read);
  }
  auto excluded = ReadExcluded(o, users);
  if (!excluded.ok()) return Fail(excluded.status());

  SavedModel& model = **saved;
  Recommender recommender(&model.model(), model.ps(), model.SortedIds(kItemTable));
  const absl::flat_hash_set<uint64_t> none;
  const bool with_titles = !o.items_path.empty();
  if (!o.has_user) {
    std::printf("user\trank\titem\tscore%s\n", with_titles ? "\ttitle" : "");
  }
  size_t unknown = 0;
  for (uint64_t user : users) {
    if (!model.HasRow(kUserTable, user)) {
      if (o.has_user) return Fail(absl::NotFoundError(UnknownUser(user)));
      std::fprintf(stderr, "psrec recommend: %s; skipped\n", UnknownUser(user).c_str());
      ++unknown;
      continue;
    }
    auto it = excluded->find(user);
    auto top = recommender.TopK(user, o.k, it == excluded->end() ? none : it->second);
    if (!top.ok()) return Fail(top.status());
    for (size_t rank = 0; rank < top->size(); ++rank) {
      const ScoredItem& s = (*top)[rank];
      std::string line = o.has_user
                             ? absl::StrFormat("%d\t%.6g", s.item, s.score)
                             : absl::StrFormat("%d\t%d\t%d\t%.6g", user, rank + 1, s.item, s.score);
      if (with_titles) {
        auto title = titles.find(s.item);
        absl::StrAppend(&line, "\t", title == titles.end() ? "" : title->second);
      }
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
  if (unknown > 0) {
    std::fflush(stdout);
    std::fprintf(stderr, "psrec recommend: %zu of %zu users are not in the model (skipped)\n",
                 unknown, users.size());
    return 1;
  }
  return 0;
}

}  // namespace psrec
