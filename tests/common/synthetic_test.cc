#include "common/synthetic.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/dataset.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

bool SameRows(const std::vector<Interaction>& a,
              const std::vector<Interaction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].user != b[i].user || a[i].item != b[i].item ||
        a[i].rating != b[i].rating || a[i].timestamp != b[i].timestamp) {
      return false;
    }
  }
  return true;
}

SyntheticOptions Small(bool implicit) {
  SyntheticOptions options;
  options.num_users = 300;
  options.num_items = 400;
  options.interactions_per_user = 30;
  options.implicit = implicit;
  return options;
}

TEST(SyntheticTest, DeterministicForSameOptions) {
  for (bool implicit : {true, false}) {
    SyntheticData a = GenerateSynthetic(Small(implicit));
    SyntheticData b = GenerateSynthetic(Small(implicit));
    EXPECT_TRUE(SameRows(a.train, b.train));
    EXPECT_TRUE(SameRows(a.test, b.test));
    ASSERT_EQ(a.ranking.size(), b.ranking.size());
    for (size_t i = 0; i < a.ranking.size(); ++i) {
      EXPECT_EQ(a.ranking[i].user, b.ranking[i].user);
      EXPECT_EQ(a.ranking[i].test_item, b.ranking[i].test_item);
      EXPECT_EQ(a.ranking[i].negatives, b.ranking[i].negatives);
    }
  }
}

TEST(SyntheticTest, SeedChangesData) {
  SyntheticOptions other = Small(true);
  other.seed = 43;
  EXPECT_FALSE(SameRows(GenerateSynthetic(Small(true)).train,
                        GenerateSynthetic(other).train));
}

TEST(SyntheticTest, ImplicitShape) {
  const SyntheticOptions options = Small(true);
  SyntheticData data = GenerateSynthetic(options, 50);
  ASSERT_EQ(data.test.size(), options.num_users);
  ASSERT_EQ(data.ranking.size(), options.num_users);

  std::map<uint64_t, std::vector<const Interaction*>> train_by_user;
  for (const Interaction& row : data.train) {
    EXPECT_GE(row.user, 1u);
    EXPECT_LE(row.user, options.num_users);
    EXPECT_GE(row.item, 1u);
    EXPECT_LE(row.item, options.num_items);
    EXPECT_EQ(row.rating, 1.0f);
    train_by_user[row.user].push_back(&row);
  }
  // The mean is honoured and nobody falls below the floor of 5.
  const double mean =
      static_cast<double>(data.train.size() + data.test.size()) /
      options.num_users;
  EXPECT_NEAR(mean, options.interactions_per_user, 2.0);
  for (const Interaction& test : data.test) {
    const auto& rows = train_by_user[test.user];
    EXPECT_GE(rows.size() + 1, 5u) << "user " << test.user;
    std::set<uint64_t> items;
    int64_t last = 0;
    for (const Interaction* row : rows) {
      EXPECT_TRUE(items.insert(row->item).second) << "repeat in train";
      EXPECT_GT(row->timestamp, last) << "timestamps must increase";
      last = row->timestamp;
    }
    EXPECT_EQ(items.count(test.item), 0u) << "test item also in train";
    EXPECT_GT(test.timestamp, last) << "test must be the last interaction";
  }
  for (size_t u = 0; u < data.ranking.size(); ++u) {
    EXPECT_EQ(data.ranking[u].user, data.test[u].user);
    EXPECT_EQ(data.ranking[u].test_item, data.test[u].item);
  }
}

TEST(SyntheticTest, NegativesWereNeverInteracted) {
  const SyntheticOptions options = Small(true);
  SyntheticData data = GenerateSynthetic(options);
  absl::flat_hash_map<uint64_t, absl::flat_hash_set<uint64_t>> seen;
  for (const Interaction& row : data.train) seen[row.user].insert(row.item);
  for (const Interaction& row : data.test) seen[row.user].insert(row.item);
  for (const RankingCase& c : data.ranking) {
    ASSERT_EQ(c.negatives.size(), 99u);
    absl::flat_hash_set<uint64_t> distinct;
    for (uint64_t neg : c.negatives) {
      EXPECT_GE(neg, 1u);
      EXPECT_LE(neg, options.num_items);
      EXPECT_FALSE(seen[c.user].contains(neg))
          << "user " << c.user << " interacted with negative " << neg;
      EXPECT_TRUE(distinct.insert(neg).second) << "repeated negative";
    }
  }
}

TEST(SyntheticTest, SmallCatalogLeavesRoomForNegatives) {
  SyntheticOptions options;
  options.num_users = 50;
  options.num_items = 110;
  options.interactions_per_user = 40;
  SyntheticData data = GenerateSynthetic(options, 99);
  for (const RankingCase& c : data.ranking) {
    EXPECT_EQ(c.negatives.size(), 99u);
  }
  // Users are capped at 110 - 99 interactions.
  EXPECT_LE(data.train.size() + data.test.size(), 50u * 11u);
}

TEST(SyntheticTest, ExplicitRatingsAndSplit) {
  const SyntheticOptions options = Small(false);
  SyntheticData data = GenerateSynthetic(options);
  EXPECT_TRUE(data.ranking.empty());
  std::map<uint64_t, int64_t> first_train, first_test;
  std::set<float> values;
  for (const std::vector<Interaction>* rows : {&data.train, &data.test}) {
    for (const Interaction& row : *rows) {
      EXPECT_GE(row.rating, 1.0f);
      EXPECT_LE(row.rating, 5.0f);
      EXPECT_EQ(row.rating * 2, std::round(row.rating * 2)) << "half stars";
      values.insert(row.rating);
    }
  }
  for (const Interaction& row : data.train) {
    auto [it, inserted] = first_train.emplace(row.user, row.timestamp);
    if (!inserted) it->second = std::min(it->second, row.timestamp);
  }
  for (const Interaction& row : data.test) {
    auto [it, inserted] = first_test.emplace(row.user, row.timestamp);
    if (!inserted) it->second = std::min(it->second, row.timestamp);
  }
  // Every user keeps its first interaction in train.
  EXPECT_EQ(first_train.size(), options.num_users);
  for (const auto& [user, ts] : first_test) {
    EXPECT_LT(first_train[user], ts) << "user " << user;
  }
  const double fraction = static_cast<double>(data.test.size()) /
                          (data.train.size() + data.test.size());
  EXPECT_NEAR(fraction, 0.2, 0.02);
  // Ratings actually vary: the planted factors move them off the middle.
  EXPECT_GE(values.size(), 6u);
  // Items are chosen for high affinity, so observed ratings lean high.
  DatasetFacts facts = ComputeFacts(data.train);
  EXPECT_GT(facts.global_mean, 3.0);
  EXPECT_LT(facts.global_mean, 4.75);
}

// The point of the planted factors: a model that uses co-occurrence (a
// stand-in for anything learned) must beat popularity on the held-out items.
TEST(SyntheticTest, PlantedStructureBeatsPopularity) {
  const SyntheticOptions options;  // the defaults `make run` uses
  SyntheticData data = GenerateSynthetic(options);
  const size_t n = options.num_items + 1;
  std::vector<double> popularity(n, 0.0);
  std::vector<std::vector<uint64_t>> history(options.num_users + 1);
  for (const Interaction& row : data.train) {
    popularity[row.item] += 1.0;
    history[row.user].push_back(row.item);
  }
  std::vector<float> cooccur(n * n, 0.0f);
  for (const auto& items : history) {
    for (uint64_t a : items) {
      for (uint64_t b : items) {
        if (a != b) cooccur[a * n + b] += 1.0f;
      }
    }
  }
  auto hit_rate = [&](auto score) {
    int hits = 0;
    for (const RankingCase& c : data.ranking) {
      const double target = score(c.user, c.test_item);
      int better = 0;
      for (uint64_t neg : c.negatives) better += score(c.user, neg) > target;
      hits += better < 10;
    }
    return static_cast<double>(hits) / data.ranking.size();
  };
  const double pop_hr =
      hit_rate([&](uint64_t, uint64_t item) { return popularity[item]; });
  const double knn_hr = hit_rate([&](uint64_t user, uint64_t item) {
    double s = 0.0;
    for (uint64_t seen : history[user]) {
      s += cooccur[seen * n + item] /
           std::sqrt(popularity[seen] * popularity[item] + 1.0);
    }
    return s;
  });
  EXPECT_GT(pop_hr, 0.2);  // popularity is real signal too
  EXPECT_GT(knn_hr, pop_hr + 0.1)
      << "popularity HR@10 " << pop_hr << ", item-kNN HR@10 " << knn_hr;
}

TEST(SyntheticTest, DegenerateSizes) {
  SyntheticOptions options;
  options.num_users = 0;
  EXPECT_TRUE(GenerateSynthetic(options).train.empty());
  options.num_users = 3;
  options.num_items = 4;  // fewer items than the floor of 5 per user
  options.implicit = false;
  SyntheticData data = GenerateSynthetic(options, 99);
  EXPECT_EQ(data.train.size() + data.test.size(), 12u);
  options.implicit = true;
  data = GenerateSynthetic(options, 99);
  EXPECT_EQ(data.test.size(), 3u);
  for (const RankingCase& c : data.ranking) EXPECT_TRUE(c.negatives.empty());
}

}  // namespace
}  // namespace psrec

namespace psrec {
namespace {

// bench/mf_scale.sh's 20M-rating set (200k users x 50k items, 125 ratings per
// user, rank 16, explicit), scaled down 100x in users and items.
TEST(SyntheticTest, PlantedRank16SetHasTheBenchShape) {
  SyntheticOptions options;
  options.num_users = 2000;
  options.num_items = 500;
  options.interactions_per_user = 125;
  options.rank = 16;
  options.implicit = false;
  options.seed = 7;
  const SyntheticData data = GenerateSynthetic(options);
  const double total = static_cast<double>(data.train.size() + data.test.size());
  EXPECT_NEAR(total / (options.num_users * options.interactions_per_user), 1.0, 0.02);
  EXPECT_NEAR(data.test.size() / total, 0.2, 0.01);
  std::set<uint64_t> users, items;
  for (const Interaction& row : data.train) {
    EXPECT_GE(row.user, 1u);
    EXPECT_LE(row.user, options.num_users);
    EXPECT_GE(row.item, 1u);
    EXPECT_LE(row.item, options.num_items);
    users.insert(row.user);
    items.insert(row.item);
  }
  EXPECT_EQ(users.size(), options.num_users);
  EXPECT_GT(items.size(), options.num_items * 9 / 10);
  // The rank is the planted model's: the same seed at rank 8 rates differently.
  options.rank = 8;
  EXPECT_FALSE(SameRows(GenerateSynthetic(options).train, data.train));
}

TEST(SyntheticTest, NoiseOptionMovesExplicitRatings) {
  SyntheticOptions options = Small(false);
  options.noise = 0.0;
  const SyntheticData quiet = GenerateSynthetic(options);
  options.noise = 1.0;
  const SyntheticData noisy = GenerateSynthetic(options);
  double spread_quiet = 0, spread_noisy = 0, mean_quiet = 0, mean_noisy = 0;
  for (const Interaction& r : quiet.train) mean_quiet += r.rating / quiet.train.size();
  for (const Interaction& r : noisy.train) mean_noisy += r.rating / noisy.train.size();
  for (const Interaction& r : quiet.train) spread_quiet += std::pow(r.rating - mean_quiet, 2);
  for (const Interaction& r : noisy.train) spread_noisy += std::pow(r.rating - mean_noisy, 2);
  EXPECT_GT(spread_noisy / noisy.train.size(), spread_quiet / quiet.train.size());
}

}  // namespace
}  // namespace psrec
