// Recency weights (common/recency.h): the formula, ties, data without
// timestamps, normalisation, and the flag checks.
#include "common/recency.h"

#include <vector>

#include "gtest/gtest.h"

namespace psrec {
namespace {

TEST(RecencyTest, LatestCountsOnePlusWeightAndTheExtraHalvesPerHalflife) {
  RecencyOptions o;
  o.weight = 4;
  o.halflife = 1;
  // One user, out of time order: raw weights 1 + 4 x 2^-k with k = 2, 0, 1
  // later interactions: 2, 5, 3; mean 10/3.
  const std::vector<uint32_t> users = {7, 7, 7};
  const std::vector<int64_t> times = {100, 300, 200};
  const std::vector<float> w = RecencyWeights(users, times, o);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_FLOAT_EQ(w[0], 2 * 0.3f);
  EXPECT_FLOAT_EQ(w[1], 5 * 0.3f);
  EXPECT_FLOAT_EQ(w[2], 3 * 0.3f);
}

TEST(RecencyTest, UsersAreWeightedApartAndTiesShareAWeight) {
  RecencyOptions o;
  o.weight = 2;
  o.halflife = 2;
  // User 1: t 5, 5, 9 (the two at t 5 have one later interaction each);
  // user 2: one interaction, its latest.
  const std::vector<uint32_t> users = {1, 2, 1, 1};
  const std::vector<int64_t> times = {5, 3, 9, 5};
  const std::vector<float> w = RecencyWeights(users, times, o);
  const float tie = 1 + 2 * 0.70710678f, latest = 3;
  const float mean = (tie + latest + latest + tie) / 4;
  EXPECT_FLOAT_EQ(w[0], tie / mean);
  EXPECT_FLOAT_EQ(w[3], tie / mean);
  EXPECT_FLOAT_EQ(w[1], latest / mean);
  EXPECT_FLOAT_EQ(w[2], latest / mean);
  double sum = 0;
  for (float x : w) sum += x;
  EXPECT_NEAR(sum / w.size(), 1.0, 1e-6);
}

TEST(RecencyTest, DataWithoutTimestampsOrWithWeightingOffIsUnweighted) {
  const std::vector<uint32_t> users = {1, 1, 2, 1};
  const std::vector<int64_t> no_times = {0, 0, 0, 0};
  // Exactly 1 for any weight (0.7, 1.9 and 2.4 once came out 0.99999994).
  for (float weight : {0.7f, 1.9f, 2.4f, 4.0f, 123.4f}) {
    RecencyOptions on;
    on.weight = weight;
    for (float w : RecencyWeights(users, no_times, on)) EXPECT_EQ(w, 1.0f) << weight;
  }
  const std::vector<int64_t> times = {1, 2, 3, 4};
  for (float w : RecencyWeights(users, times, RecencyOptions{})) EXPECT_EQ(w, 1.0f);
}

TEST(RecencyTest, BadOptionsNameTheirFlag) {
  RecencyOptions o;
  o.weight = -1;
  EXPECT_NE(ValidateRecency(o).message().find("--recency_weight=-1"), std::string::npos);
  o.weight = 4;
  o.halflife = 0;
  EXPECT_NE(ValidateRecency(o).message().find("--recency_halflife=0"), std::string::npos);
  o.halflife = 7;
  EXPECT_TRUE(ValidateRecency(o).ok());
  o.weight = 0;
  EXPECT_TRUE(ValidateRecency(o).ok());
}

}  // namespace
}  // namespace psrec
