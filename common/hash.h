// Stable hashing and counter-based randomness. Nothing here may depend on the
// process, build or platform: placement and initial values must agree between
// every server, worker and run (never std::hash or absl::Hash).
#ifndef PSREC_COMMON_HASH_H_
#define PSREC_COMMON_HASH_H_

#include <cstdint>

namespace psrec {

// splitmix64's finalizer: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Position of key (table, id) on the placement ring.
inline uint64_t KeyHash(uint32_t table, uint64_t id) {
  return Mix64(id ^ Mix64(0x7073726563ULL + table));
}

// A counter-based generator: the n-th draw of stream (seed, a, b) is a pure
// function of its inputs, so a row is born the same on any server.
class CounterRng {
 public:
  CounterRng(uint64_t seed, uint64_t a, uint64_t b)
      : key_(Mix64(Mix64(seed ^ 0x5eed) ^ Mix64(a + 0x1234567)) ^ b * 0x9e3779b97f4a7c15ULL) {}
  uint64_t Next() { return Mix64(key_ + counter_++ * 0xd1b54a32d192ed03ULL); }
  // Uniform in [0, 1).
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
  // Standard normal (Box-Muller; one draw per call keeps streams simple).
  double Normal();

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

}  // namespace psrec

#endif  // PSREC_COMMON_HASH_H_
