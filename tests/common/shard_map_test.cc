#include "common/shard_map.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "common/hash.h"
#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

// Reference splitmix64 (Steele, Lea & Flood 2014; Vigna's public-domain C
// code), written out from the published algorithm: advance the state by the
// golden gamma, then mix the new state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

TEST(Mix64Test, KnownValueForZero) {
  EXPECT_EQ(Mix64(0), 0xe220a8397b1dcdafULL);
}

TEST(Mix64Test, MatchesReferenceSplitMix64Stream) {
  SplitMix64 ref(0);
  // The published first outputs of splitmix64 seeded with 0.
  const uint64_t first = ref.Next();
  EXPECT_EQ(first, 0xe220a8397b1dcdafULL);
  const uint64_t second = ref.Next();
  EXPECT_EQ(second, 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(ref.Next(), 0x06c45d188009454fULL);
  // Mix64(x) is splitmix64's output for state x before the increment, so
  // Mix64(k * gamma) is the (k+1)-th output of the stream seeded with 0.
  EXPECT_EQ(Mix64(0x9e3779b97f4a7c15ULL), second);
  SplitMix64 ref2(12345);
  for (uint64_t k = 0; k < 100; ++k) {
    EXPECT_EQ(Mix64(12345 + k * 0x9e3779b97f4a7c15ULL), ref2.Next()) << k;
  }
}

TEST(Mix64Test, IsInjectiveOnASample) {
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < 10000; ++i) out.push_back(Mix64(i));
  std::sort(out.begin(), out.end());
  EXPECT_EQ(std::adjacent_find(out.begin(), out.end()), out.end());
}

TEST(KeyHashTest, DependsOnTableAndId) {
  EXPECT_EQ(KeyHash(0, 42), KeyHash(0, 42));
  EXPECT_NE(KeyHash(0, 42), KeyHash(1, 42));
  EXPECT_NE(KeyHash(0, 42), KeyHash(0, 43));
  // The documented definition.
  EXPECT_EQ(KeyHash(3, 99), Mix64(99 ^ Mix64(0x7073726563ULL + 3)));
}

TEST(RingTest, BuildIsDeterministic) {
  Ring a = Ring::Build(4, 64);
  Ring b = Ring::Build(4, 64);
  EXPECT_EQ(a.positions(), b.positions());
  EXPECT_EQ(a.owners(), b.owners());
  EXPECT_EQ(a.num_servers(), 4u);
}

TEST(RingTest, BuildHasSortedVnodesEvenlyPerServer) {
  Ring ring = Ring::Build(4, 64);
  ASSERT_EQ(ring.positions().size(), 256u);
  ASSERT_EQ(ring.owners().size(), 256u);
  EXPECT_TRUE(std::is_sorted(ring.positions().begin(), ring.positions().end()));
  std::vector<int> count(4, 0);
  for (uint32_t o : ring.owners()) {
    ASSERT_LT(o, 4u);
    ++count[o];
  }
  for (int c : count) EXPECT_EQ(c, 64);
}

TEST(RingTest, EveryServerOwnsAReasonableFraction) {
  Ring ring = Ring::Build(4, 64);
  std::vector<double> frac = ring.OwnedFractions();
  ASSERT_EQ(frac.size(), 4u);
  double sum = 0;
  for (int s = 0; s < 4; ++s) {
    EXPECT_GE(frac[s], 0.15) << "server " << s;
    EXPECT_LE(frac[s], 0.35) << "server " << s;
    sum += frac[s];
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);

  // Keys land on servers in the same proportions as the arcs.
  constexpr int kKeys = 200000;
  std::vector<int> hits(4, 0);
  for (uint64_t id = 0; id < kKeys; ++id) ++hits[ring.Owner(kItemTable, id)];
  for (int s = 0; s < 4; ++s) {
    const double f = static_cast<double>(hits[s]) / kKeys;
    EXPECT_GE(f, 0.15) << "server " << s;
    EXPECT_LE(f, 0.35) << "server " << s;
    // Binomial standard deviation is ~0.001 here.
    EXPECT_NEAR(f, frac[s], 0.01) << "server " << s;
  }
}

TEST(RingTest, OwnedFractionsHandCase) {
  // Arc (2^63, 2^62] wraps and belongs to owner 0: 3/4 of the space.
  auto ring = Ring::FromParts({1ULL << 62, 1ULL << 63}, {0, 1}, 2);
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::vector<double> frac = ring->OwnedFractions();
  ASSERT_EQ(frac.size(), 2u);
  EXPECT_DOUBLE_EQ(frac[0], 0.75);
  EXPECT_DOUBLE_EQ(frac[1], 0.25);
}

// With a single virtual node the only arc is the whole ring (2^64), which a
// uint64 difference cannot hold.
TEST(RingTest, OwnedFractionsSingleVnodeOwnsEverything) {
  auto ring = Ring::FromParts({12345}, {0}, 1);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_NEAR(ring->OwnedFractions()[0], 1.0, 1e-12);
  EXPECT_NEAR(Ring::Build(1, 1).OwnedFractions()[0], 1.0, 1e-12);
}

TEST(RingTest, OwnerOfHashIsFirstVnodeAtOrAfterWrapping) {
  auto ring = Ring::FromParts({100, 200, 300}, {2, 0, 1}, 3);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->OwnerOfHash(0), 2u);
  EXPECT_EQ(ring->OwnerOfHash(99), 2u);
  EXPECT_EQ(ring->OwnerOfHash(100), 2u);
  EXPECT_EQ(ring->OwnerOfHash(101), 0u);
  EXPECT_EQ(ring->OwnerOfHash(200), 0u);
  EXPECT_EQ(ring->OwnerOfHash(250), 1u);
  EXPECT_EQ(ring->OwnerOfHash(300), 1u);
  EXPECT_EQ(ring->OwnerOfHash(301), 2u);  // wraps to the first vnode
  EXPECT_EQ(ring->OwnerOfHash(std::numeric_limits<uint64_t>::max()), 2u);
}

TEST(RingTest, OwnerAgreesWithOwnerOfKeyHash) {
  for (uint32_t n : {2u, 3u, 4u, 7u}) {
    Ring ring = Ring::Build(n);
    for (uint32_t table : {kUserTable, kItemTable}) {
      for (uint64_t id = 0; id < 5000; ++id) {
        const uint64_t big_id = id * 0x100000001ULL;
        ASSERT_EQ(ring.Owner(table, id), ring.OwnerOfHash(KeyHash(table, id)))
            << "n=" << n << " table=" << table << " id=" << id;
        ASSERT_EQ(ring.Owner(table, big_id), ring.OwnerOfHash(KeyHash(table, big_id)));
      }
    }
  }
}

TEST(RingTest, SingleServerOwnsEverything) {
  Ring ring = Ring::Build(1);
  for (uint64_t id = 0; id < 1000; ++id) EXPECT_EQ(ring.Owner(kUserTable, id), 0u);
  std::vector<double> frac = ring.OwnedFractions();
  ASSERT_EQ(frac.size(), 1u);
  EXPECT_NEAR(frac[0], 1.0, 1e-12);
}

TEST(RingTest, AddingAServerMovesKeysOnlyToTheNewServer) {
  for (uint32_t n : {1u, 3u, 4u}) {
    Ring before = Ring::Build(n);
    Ring after = Ring::Build(n + 1);
    int moved = 0;
    constexpr int kKeys = 100000;
    for (uint64_t id = 0; id < kKeys; ++id) {
      const uint32_t a = before.Owner(kItemTable, id);
      const uint32_t b = after.Owner(kItemTable, id);
      if (a != b) {
        ++moved;
        ASSERT_EQ(b, n) << "key " << id << " moved from " << a << " to " << b
                        << " when adding server " << n;
      }
    }
    // The new server takes about 1/(n+1) of the keys.
    const double f = static_cast<double>(moved) / kKeys;
    EXPECT_GT(f, 0.5 / (n + 1)) << "n=" << n;
    EXPECT_LT(f, 1.6 / (n + 1)) << "n=" << n;
  }
}

TEST(RingTest, FromPartsRoundTripsBuild) {
  Ring built = Ring::Build(5);
  auto ring = Ring::FromParts(built.positions(), built.owners(), 5);
  ASSERT_TRUE(ring.ok()) << ring.status();
  for (uint64_t id = 0; id < 2000; ++id) {
    EXPECT_EQ(ring->Owner(kUserTable, id), built.Owner(kUserTable, id));
  }
}

TEST(RingTest, FromPartsRejectsUnsortedPositions) {
  auto ring = Ring::FromParts({10, 30, 20}, {0, 1, 0}, 2);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ring.status().message(), HasSubstr("sorted"));
}

TEST(RingTest, FromPartsRejectsOutOfRangeOwner) {
  auto ring = Ring::FromParts({10, 20, 30}, {0, 2, 1}, 2);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RingTest, FromPartsRejectsSizeMismatch) {
  auto ring = Ring::FromParts({10, 20, 30}, {0, 1}, 2);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RingTest, FromPartsRejectsEmptyRing) {
  auto ring = Ring::FromParts({}, {}, 1);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CounterRngTest, StreamsAreReproducible) {
  CounterRng a(7, 1, 42), b(7, 1, 42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next()) << i;
  CounterRng c(7, 1, 42), d(7, 1, 42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(c.Normal(), d.Normal()) << i;
}

TEST(CounterRngTest, StreamsDifferAcrossSeedAndCoordinates) {
  auto first = [](uint64_t seed, uint64_t a, uint64_t b) {
    CounterRng rng(seed, a, b);
    std::vector<uint64_t> v;
    for (int i = 0; i < 4; ++i) v.push_back(rng.Next());
    return v;
  };
  const auto base = first(7, 1, 42);
  EXPECT_NE(base, first(8, 1, 42));
  EXPECT_NE(base, first(7, 2, 42));
  EXPECT_NE(base, first(7, 1, 43));
  EXPECT_NE(base, first(7, 42, 1));  // coordinates are not symmetric
  EXPECT_NE(first(0, 0, 0), first(0, 0, 1));
  // Draws within a stream differ too.
  EXPECT_NE(base[0], base[1]);
}

TEST(CounterRngTest, UniformIsInUnitInterval) {
  CounterRng rng(1, 2, 3);
  double sum = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Mean 1/2, standard error sqrt(1/12 / 1e5) ~ 0.0009.
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
}

TEST(CounterRngTest, NormalHasUnitMomentsOver100kDraws) {
  CounterRng rng(2024, 0, 0);
  constexpr int kDraws = 100000;
  double sum = 0, sq = 0;
  int beyond3 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double x = rng.Normal();
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += x * x;
    beyond3 += std::fabs(x) > 3 ? 1 : 0;
  }
  const double mean = sum / kDraws;
  const double sd = std::sqrt(sq / kDraws - mean * mean);
  // Standard errors: mean ~0.003, sd ~0.0022.
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sd, 1.0, 0.02);
  // P(|X| > 3) = 0.0027 for a standard normal: ~270 of 100k.
  EXPECT_GT(beyond3, 150);
  EXPECT_LT(beyond3, 400);
}

}  // namespace
}  // namespace psrec
