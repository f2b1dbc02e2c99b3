// The validation split: the latest training interaction per user (ties by
// file order), users with one interaction untouched, negatives the user never
// interacted with, deterministic from the seed; for ratings a deterministic,
// disjoint random fraction.
#include "common/validation_split.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::ElementsAre;

Interaction At(uint64_t user, uint64_t item, int64_t ts, float rating = 1.0f) {
  Interaction x;
  x.user = user;
  x.item = item;
  x.rating = rating;
  x.timestamp = ts;
  return x;
}

std::vector<uint64_t> Items(const std::vector<Interaction>& xs) {
  std::vector<uint64_t> out;
  for (const Interaction& x : xs) out.push_back(x.item);
  return out;
}

ValidationSplitOptions Ranking(uint64_t seed = 7) {
  ValidationSplitOptions o;
  o.ranking = true;
  o.negatives = 99;
  o.seed = seed;
  return o;
}

// 200 items, so that 99 negatives can be drawn.
std::vector<Interaction> WithCatalogue(std::vector<Interaction> xs) {
  for (uint64_t i = 1000; i < 1200; ++i) xs.push_back(At(99, i, 0));
  return xs;
}

TEST(ValidationSplitTest, HoldsOutEachUsersLatestInteraction) {
  // User 1's latest is item 12 (ts 30) although it is not the last line.
  auto split = SplitValidation(
      WithCatalogue({At(1, 10, 10), At(1, 12, 30), At(2, 20, 5), At(1, 11, 20), At(2, 21, 6)}),
      Ranking());
  std::vector<std::pair<uint64_t, uint64_t>> held;
  for (const Interaction& x : split.validation) held.push_back({x.user, x.item});
  EXPECT_THAT(
      held, ElementsAre(std::pair<uint64_t, uint64_t>{1, 12}, std::pair<uint64_t, uint64_t>{2, 21},
                        std::pair<uint64_t, uint64_t>{99, 1199}));
  ASSERT_EQ(split.cases.size(), 3u);
  EXPECT_EQ(split.cases[0].user, 1u);
  EXPECT_EQ(split.cases[0].test_item, 12u);
  // Training keeps the rest, in file order.
  std::vector<Interaction> user1;
  for (const Interaction& x : split.train) {
    if (x.user == 1) user1.push_back(x);
  }
  EXPECT_THAT(Items(user1), ElementsAre(10, 11));
  EXPECT_EQ(split.train.size() + split.validation.size(), 205u);
}

TEST(ValidationSplitTest, EqualTimestampsHoldOutTheLaterLine) {
  auto split =
      SplitValidation(WithCatalogue({At(1, 10, 50), At(1, 11, 50), At(1, 12, 40)}), Ranking());
  ASSERT_FALSE(split.validation.empty());
  EXPECT_EQ(split.validation[0].user, 1u);
  EXPECT_EQ(split.validation[0].item, 11u);
  // No timestamps at all (all 0): the last line is the latest.
  auto untimed = SplitValidation(WithCatalogue({At(3, 7, 0), At(3, 8, 0), At(3, 9, 0)}), Ranking());
  EXPECT_EQ(untimed.validation[0].item, 9u);
}

TEST(ValidationSplitTest, UsersWithOneInteractionKeepIt) {
  auto split =
      SplitValidation(WithCatalogue({At(5, 50, 1), At(6, 60, 1), At(6, 61, 2)}), Ranking());
  for (const Interaction& x : split.validation) EXPECT_NE(x.user, 5u);
  EXPECT_EQ(std::count_if(split.train.begin(), split.train.end(),
                          [](const Interaction& x) { return x.user == 5; }),
            1);
  EXPECT_EQ(std::count_if(split.validation.begin(), split.validation.end(),
                          [](const Interaction& x) { return x.user == 6; }),
            1);
}

TEST(ValidationSplitTest, RepeatsOfTheHeldOutPairLeaveTrainingToo) {
  auto split =
      SplitValidation(WithCatalogue({At(1, 10, 1), At(1, 11, 2), At(1, 10, 3)}), Ranking());
  EXPECT_EQ(split.validation[0].item, 10u);
  for (const Interaction& x : split.train) {
    EXPECT_FALSE(x.user == 1 && x.item == 10) << "the held-out pair is still trained on";
  }
}

TEST(ValidationSplitTest, NegativesAreNeverInteractedWithAndDeterministic) {
  // 30 users over 150 items, each with 40 interactions.
  std::vector<Interaction> data;
  for (uint64_t u = 0; u < 30; ++u) {
    for (uint64_t k = 0; k < 40; ++k) data.push_back(At(u, (u * 7 + k * 3) % 150, k));
  }
  auto split = SplitValidation(data, Ranking(11));
  ASSERT_EQ(split.cases.size(), 30u);
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const Interaction& x : data) seen.insert({x.user, x.item});
  for (const RankingCase& c : split.cases) {
    EXPECT_EQ(c.negatives.size(), 99u);
    std::set<uint64_t> distinct(c.negatives.begin(), c.negatives.end());
    EXPECT_EQ(distinct.size(), c.negatives.size()) << "repeated negative for user " << c.user;
    for (uint64_t item : c.negatives) {
      EXPECT_FALSE(seen.count({c.user, item})) << "user " << c.user << " item " << item;
      EXPECT_LT(item, 150u);
    }
  }
  // Same data and seed: the same split. The order of the lines does not
  // change a user's negatives (they come from the user's own stream).
  auto again = SplitValidation(data, Ranking(11));
  std::vector<Interaction> reversed(data.rbegin(), data.rend());
  auto shuffled = SplitValidation(reversed, Ranking(11));
  for (size_t i = 0; i < split.cases.size(); ++i) {
    EXPECT_EQ(again.cases[i].negatives, split.cases[i].negatives);
  }
  for (const RankingCase& c : shuffled.cases) {
    auto it = std::find_if(split.cases.begin(), split.cases.end(),
                           [&](const RankingCase& d) { return d.user == c.user; });
    ASSERT_NE(it, split.cases.end());
    EXPECT_EQ(it->negatives, c.negatives);
  }
  // Another seed: other negatives.
  auto other = SplitValidation(data, Ranking(12));
  EXPECT_NE(other.cases[0].negatives, split.cases[0].negatives);
}

TEST(ValidationSplitTest, DenseUserGetsEveryUnseenItem) {
  // 110 items; user 1 interacted with 100 of them: 10 candidates for 99 slots.
  std::vector<Interaction> data;
  for (uint64_t i = 0; i < 110; ++i) data.push_back(At(2, i, 0));
  for (uint64_t i = 0; i < 100; ++i) data.push_back(At(1, i, static_cast<int64_t>(i)));
  auto split = SplitValidation(data, Ranking());
  auto it = std::find_if(split.cases.begin(), split.cases.end(),
                         [](const RankingCase& c) { return c.user == 1; });
  ASSERT_NE(it, split.cases.end());
  std::vector<uint64_t> negatives = it->negatives;
  std::sort(negatives.begin(), negatives.end());
  EXPECT_THAT(negatives, ElementsAre(100, 101, 102, 103, 104, 105, 106, 107, 108, 109));
}

TEST(ValidationSplitTest, RatingFractionIsDeterministicAndDisjoint) {
  std::vector<Interaction> data;
  for (uint64_t i = 0; i < 1000; ++i)
    data.push_back(At(i % 37, i, static_cast<int64_t>(i), static_cast<float>(1 + i % 5)));
  ValidationSplitOptions o;
  o.ranking = false;
  o.fraction = 0.05;
  o.seed = 3;
  auto split = SplitValidation(data, o);
  EXPECT_EQ(split.validation.size(), 50u);
  EXPECT_EQ(split.train.size(), 950u);
  EXPECT_TRUE(split.cases.empty());
  // Disjoint and together the whole data (items are unique here).
  std::set<uint64_t> train_items, validation_items;
  for (const Interaction& x : split.train) train_items.insert(x.item);
  for (const Interaction& x : split.validation) validation_items.insert(x.item);
  EXPECT_EQ(validation_items.size(), 50u);
  for (uint64_t item : validation_items) EXPECT_FALSE(train_items.count(item)) << item;
  EXPECT_EQ(train_items.size() + validation_items.size(), 1000u);
  // Both halves keep file order.
  EXPECT_TRUE(
      std::is_sorted(split.validation.begin(), split.validation.end(),
                     [](const Interaction& a, const Interaction& b) { return a.item < b.item; }));
  // Deterministic from the seed; another seed picks others.
  EXPECT_EQ(Items(SplitValidation(data, o).validation), Items(split.validation));
  o.seed = 4;
  EXPECT_NE(Items(SplitValidation(data, o).validation), Items(split.validation));
  // The fraction is rounded to a whole number of interactions.
  o.fraction = 0.0004;
  EXPECT_EQ(SplitValidation(data, o).validation.size(), 0u);
  o.fraction = 0.0015;
  EXPECT_EQ(SplitValidation(data, o).validation.size(), 2u);
}

}  // namespace
}  // namespace psrec
