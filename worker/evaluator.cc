#include "worker/evaluator.h"

#include <algorithm>

#include "common/metrics.h"

namespace psrec {
namespace {

constexpr size_t kPairsPerRequest = 32768;

}  // namespace

absl::Status Evaluator::Score(absl::Span<const uint64_t> users, absl::Span<const uint64_t> items,
                              std::vector<float>* scores, EvalResult* result) {
  scores->resize(users.size());
  for (size_t begin = 0; begin < users.size(); begin += kPairsPerRequest) {
    const size_t n = std::min(kPairsPerRequest, users.size() - begin);
    if (auto s = assembler_.Gather(users.subspan(begin, n), items.subspan(begin, n), true);
        !s.ok()) {
      return s;
    }
    result->cold_users += assembler_.cold_user_examples();
    result->cold_items += assembler_.cold_item_examples();
    model_->Score(assembler_.View(nullptr), scores->data() + begin);
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalResult> Evaluator::Ranking(const std::vector<RankingCase>& cases) {
  EvalResult result;
  std::vector<uint64_t> users, items;
  for (const RankingCase& c : cases) {
    users.push_back(c.user);
    items.push_back(c.test_item);
    for (uint64_t n : c.negatives) {
      users.push_back(c.user);
      items.push_back(n);
    }
  }
  std::vector<float> scores;
  if (auto s = Score(users, items, &scores, &result); !s.ok()) return s;
  RankingAccumulator acc(10);
  size_t at = 0;
  for (const RankingCase& c : cases) {
    acc.AddRank(RankOfTarget(scores[at], absl::MakeConstSpan(scores).subspan(at + 1, c.negatives.size())));
    at += 1 + c.negatives.size();
  }
  result.hr_at_10 = acc.hit_rate();
  result.ndcg_at_10 = acc.ndcg();
  result.cases = acc.users();
  return result;
}

absl::StatusOr<EvalResult> Evaluator::Rating(const std::vector<Interaction>& test,
                                             float min_rating, float max_rating) {
  EvalResult result;
  std::vector<uint64_t> users, items;
  for (const Interaction& x : test) {
    users.push_back(x.user);
    items.push_back(x.item);
  }
  std::vector<float> scores;
  if (auto s = Score(users, items, &scores, &result); !s.ok()) return s;
  RatingAccumulator acc;
  for (size_t i = 0; i < test.size(); ++i) {
    acc.Add(std::clamp(scores[i], min_rating, max_rating), test[i].rating);
  }
  result.rmse = acc.rmse();
  result.mae = acc.mae();
  result.cases = acc.count();
  return result;
}

}  // namespace psrec
