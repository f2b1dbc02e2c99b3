#include "common/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace psrec {
namespace {

// Distributions are hand-rolled on purpose: the standard pins down
// mt19937_64's output but not how <random>'s distributions (or std::shuffle)
// consume it, and every process and toolchain must regenerate identical data
// from the same seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in the open interval (0, 1), so logs of it are always finite.
  double Open01() {
    return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53;
  }

  // Uniform in [0, n) without modulo bias (Lemire's multiply-and-reject).
  uint64_t Below(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(engine_()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(engine_()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Standard normal by Box-Muller; the pair's second value is kept for later.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(Open01()));
    constexpr double kTwoPi = 6.283185307179586;
    const double angle = kTwoPi * Open01();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) {
      std::swap((*v)[i - 1], (*v)[Below(i)]);
    }
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Items are scored in groups of this many, with fixed-trip inner loops, so
// the compiler vectorizes the per-user scan even at -O2.
constexpr size_t kLanes = 8;
constexpr float kAffinityScale = 2.0f;

// exp(x) for x <= 0, branch-free so it vectorizes; relative error ~1e-5,
// far below what matters for sampling weights. Inputs below -87 are clamped
// (their weights are negligible, not zero).
inline float ExpNonPositive(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;
  constexpr float kLn2Lo = 1.428606765330187e-06f;
  // max(x, -87) spelled with fabs: a compare would block vectorization.
  x = 0.5f * ((x - 87.0f) + std::fabs(x + 87.0f));
  // Truncating (y - 0.5) rounds y <= 0 to nearest: n in [-126, 0].
  const int32_t n = static_cast<int32_t>(x * kLog2e - 0.5f);
  const float nf = static_cast<float>(n);
  const float r = (x - nf * kLn2Hi) - nf * kLn2Lo;  // |r| <= ln2 / 2
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (n + 127) << 23;  // 2^n as an IEEE float
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

class Generator {
 public:
  Generator(const SyntheticOptions& options, int num_negatives)
      : options_(options),
        rank_(static_cast<size_t>(std::max(1, options.rank))),
        num_items_(options.num_items),
        padded_items_((num_items_ + kLanes - 1) / kLanes * kLanes),
        num_negatives_(static_cast<uint64_t>(std::max(0, num_negatives))),
        rng_(options.seed),
        weights_(padded_items_, 0.0f),
        block_prefix_(padded_items_ / kLanes, 0.0),
        chosen_stamp_(num_items_, 0),
        seen_stamp_(num_items_, 0) {}

  SyntheticData Run() {
    SyntheticData out;
    PlantFactors();
    const uint64_t expected =
        options_.num_users * options_.interactions_per_user;
    out.train.reserve(expected);
    out.test.reserve(options_.implicit ? options_.num_users : expected / 4);
    if (options_.implicit) out.ranking.reserve(options_.num_users);
    std::vector<uint32_t> items;
    for (uint64_t u = 0; u < options_.num_users; ++u) {
      SampleItems(u, DrawCount(), &items);
      if (options_.implicit) {
        EmitImplicit(u, items, &out);
      } else {
        EmitExplicit(u, items, &out);
      }
    }
    return out;
  }

 private:
  void PlantFactors() {
    // Variance 1/sqrt(rank) per coordinate makes dot(u, v) unit-variance at
    // any rank, so the affinity signal does not fade as rank grows.
    const double scale = std::pow(static_cast<double>(rank_), -0.25);
    user_factors_.resize(options_.num_users * rank_);
    for (float& x : user_factors_) {
      x = static_cast<float>(scale * rng_.Normal());
    }
    // Item factors are stored factor-major (and padded) for the user scan.
    item_factors_.assign(rank_ * padded_items_, 0.0f);
    for (uint64_t j = 0; j < num_items_; ++j) {
      double norm2 = 0.0;
      for (size_t k = 0; k < rank_; ++k) {
        const float x = static_cast<float>(scale * rng_.Normal());
        item_factors_[k * padded_items_ + j] = x;
        norm2 += static_cast<double>(x) * x;
      }
      max_item_norm_ = std::max(max_item_norm_, std::sqrt(norm2));
    }
    // Popularity rank is a random permutation so ids carry no signal.
    std::vector<uint32_t> order(num_items_);
    std::iota(order.begin(), order.end(), 0);
    rng_.Shuffle(&order);
    log_popularity_.assign(padded_items_, -87.0f);
    for (uint64_t r = 0; r < num_items_; ++r) {
      log_popularity_[order[r]] = static_cast<float>(
          -options_.popularity_exponent * std::log(static_cast<double>(r + 1)));
    }
  }

  double Dot(uint64_t user, uint32_t item) const {
    const float* u = &user_factors_[user * rank_];
    float sum = 0.0f;
    for (size_t k = 0; k < rank_; ++k) {
      sum += u[k] * item_factors_[k * padded_items_ + item];
    }
    return sum;
  }

  // Poisson-ish around the mean, leaving room for the ranking negatives.
  uint64_t DrawCount() {
    const double mean = static_cast<double>(options_.interactions_per_user);
    const double draw = std::round(mean + std::sqrt(mean) * rng_.Normal());
    uint64_t cap = num_items_;
    if (options_.implicit && num_items_ > num_negatives_) {
      cap = std::max<uint64_t>(num_items_ - num_negatives_,
                               std::min<uint64_t>(5, num_items_));
    }
    const uint64_t floor = std::min<uint64_t>(5, cap);
    if (!(draw > static_cast<double>(floor))) return floor;
    return std::min(cap, static_cast<uint64_t>(draw));
  }

  // weights_[j] = popularity_j * exp(2 dot(u, v_j)), scaled by a per-user
  // constant (Cauchy-Schwarz bound on the exponent) so nothing overflows.
  // An exact scan on purpose: the affinity tilt is strong enough that
  // sampling from popularity and reweighting would wash most of it out.
  void ScoreItems(uint64_t user) {
    const float* u = &user_factors_[user * rank_];
    float norm2 = 0.0f;
    for (size_t k = 0; k < rank_; ++k) norm2 += u[k] * u[k];
    const float bound =
        kAffinityScale * std::sqrt(norm2) * static_cast<float>(max_item_norm_) +
        1e-3f;
    for (size_t b = 0; b < padded_items_; b += kLanes) {
      float acc[kLanes];
      for (size_t l = 0; l < kLanes; ++l) {
        acc[l] = log_popularity_[b + l] - bound;
      }
      for (size_t k = 0; k < rank_; ++k) {
        const float c = kAffinityScale * u[k];
        const float* v = &item_factors_[k * padded_items_ + b];
        for (size_t l = 0; l < kLanes; ++l) acc[l] += c * v[l];
      }
      for (size_t l = 0; l < kLanes; ++l) {
        weights_[b + l] = ExpNonPositive(acc[l]);
      }
    }
    for (size_t j = num_items_; j < padded_items_; ++j) weights_[j] = 0.0f;
  }

  void RebuildPrefix() {
    double total = 0.0;
    for (size_t b = 0; b < block_prefix_.size(); ++b) {
      float sum = 0.0f;
      for (size_t l = 0; l < kLanes; ++l) sum += weights_[b * kLanes + l];
      total += sum;
      block_prefix_[b] = total;
    }
  }

  uint32_t DrawWeighted() {
    const double target = rng_.Open01() * block_prefix_.back();
    const size_t block = static_cast<size_t>(
        std::upper_bound(block_prefix_.begin(), block_prefix_.end(), target) -
        block_prefix_.begin());
    const size_t b = std::min(block, block_prefix_.size() - 1);
    double rest = target - (b == 0 ? 0.0 : block_prefix_[b - 1]);
    size_t last_positive = b * kLanes;
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t j = b * kLanes + l;
      if (weights_[j] <= 0.0f) continue;
      last_positive = j;
      rest -= weights_[j];
      if (rest < 0.0) return static_cast<uint32_t>(j);
    }
    return static_cast<uint32_t>(last_positive);  // rounding at block end
  }

  // Draws `count` distinct items by sequential weighted sampling without
  // replacement, then shuffles them into the user's timeline so the held-out
  // last item is a typical pick rather than the least likely one.
  void SampleItems(uint64_t user, uint64_t count, std::vector<uint32_t>* out) {
    ScoreItems(user);
    RebuildPrefix();
    ++chosen_epoch_;
    out->clear();
    uint64_t misses = 0;
    while (out->size() < count) {
      const uint32_t j = DrawWeighted();
      if (chosen_stamp_[j] != chosen_epoch_) {
        chosen_stamp_[j] = chosen_epoch_;
        out->push_back(j);
        continue;
      }
      // Redrawing on repeats is exact; once repeats dominate (a few items
      // hold most of the mass) it is cheaper to take the chosen ones out.
      if (++misses > 2 * count + 16) {
        for (uint32_t c : *out) weights_[c] = 0.0f;
        RebuildPrefix();
        misses = 0;
      }
    }
    rng_.Shuffle(out);
  }

  void EmitImplicit(uint64_t u, const std::vector<uint32_t>& items,
                    SyntheticData* out) {
    int64_t t = NextStartTime();
    for (size_t i = 0; i < items.size(); ++i) {
      t += 1 + static_cast<int64_t>(rng_.Below(86400));
      Interaction row{u + 1, static_cast<uint64_t>(items[i]) + 1, 1.0f, t};
      if (i + 1 == items.size()) {
        out->test.push_back(row);
      } else {
        out->train.push_back(row);
      }
    }
    RankingCase& c = out->ranking.emplace_back();
    c.user = u + 1;
    c.test_item = static_cast<uint64_t>(items.back()) + 1;
    SampleNegatives(items, &c.negatives);
  }

  // Uniform over items the user never touched, without repeats.
  void SampleNegatives(const std::vector<uint32_t>& items,
                       std::vector<uint64_t>* negatives) {
    ++seen_epoch_;
    for (uint32_t j : items) seen_stamp_[j] = seen_epoch_;
    const uint64_t free = num_items_ - items.size();
    const uint64_t want = std::min(num_negatives_, free);
    negatives->reserve(want);
    if (free >= 2 * want) {
      while (negatives->size() < want) {
        const uint64_t j = rng_.Below(num_items_);
        if (seen_stamp_[j] == seen_epoch_) continue;
        seen_stamp_[j] = seen_epoch_;
        negatives->push_back(j + 1);
      }
      return;
    }
    // Dense users: rejection would spin, so shuffle the complement instead.
    std::vector<uint64_t> complement;
    complement.reserve(free);
    for (uint64_t j = 0; j < num_items_; ++j) {
      if (seen_stamp_[j] != seen_epoch_) complement.push_back(j + 1);
    }
    for (uint64_t i = 0; i < want; ++i) {
      std::swap(complement[i], complement[i + rng_.Below(free - i)]);
      negatives->push_back(complement[i]);
    }
  }

  void EmitExplicit(uint64_t u, const std::vector<uint32_t>& items,
                    SyntheticData* out) {
    // Exactly 20% per user, never the first interaction, so every user keeps
    // at least one training row.
    const size_t n = items.size();
    const size_t held_out = std::min<size_t>(
        n - 1, static_cast<size_t>(std::llround(0.2 * static_cast<double>(n))));
    std::vector<size_t> positions(n - 1);
    std::iota(positions.begin(), positions.end(), 1);
    std::vector<bool> is_test(n, false);
    for (size_t i = 0; i < held_out; ++i) {
      std::swap(positions[i], positions[i + rng_.Below(positions.size() - i)]);
      is_test[positions[i]] = true;
    }
    int64_t t = NextStartTime();
    for (size_t i = 0; i < n; ++i) {
      t += 1 + static_cast<int64_t>(rng_.Below(86400));
      const double raw =
          3.0 + 1.2 * Dot(u, items[i]) + options_.noise * rng_.Normal();
      const double rating = std::clamp(std::round(raw * 2.0) / 2.0, 1.0, 5.0);
      Interaction row{u + 1, static_cast<uint64_t>(items[i]) + 1,
                      static_cast<float>(rating), t};
      (is_test[i] ? out->test : out->train).push_back(row);
    }
  }

  int64_t NextStartTime() {
    return 1'000'000'000 + static_cast<int64_t>(rng_.Below(100'000'000));
  }

  // Item indices are held as uint32_t (halving scratch memory): a catalogue
  // of 2^32 items would not fit in memory as factors anyway.
  const SyntheticOptions& options_;
  const size_t rank_;
  const uint64_t num_items_;
  const size_t padded_items_;
  const uint64_t num_negatives_;
  Rng rng_;
  std::vector<float> user_factors_;  // user-major
  std::vector<float> item_factors_;  // factor-major, padded_items_ per factor
  std::vector<float> log_popularity_;
  double max_item_norm_ = 0.0;
  // Scratch reused across users so the per-user loop does not allocate.
  // Epoch stamps avoid clearing item-sized arrays for every user.
  std::vector<float> weights_;
  std::vector<double> block_prefix_;
  std::vector<uint64_t> chosen_stamp_;
  std::vector<uint64_t> seen_stamp_;
  uint64_t chosen_epoch_ = 0;
  uint64_t seen_epoch_ = 0;
};

}  // namespace

SyntheticData GenerateSynthetic(const SyntheticOptions& options,
                                int num_negatives) {
  if (options.num_users == 0 || options.num_items == 0) return {};
  return Generator(options, num_negatives).Run();
}

}  // namespace psrec
