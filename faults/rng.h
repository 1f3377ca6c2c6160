// Deterministic randomness for the fault engine. Every random choice is a pure
// function of (seed, rule index, the rule's match count, purpose): never of
// time, thread order or anything else, so a schedule replays bit for bit.
#pragma once

#include <cstdint>

namespace fsfault::faults {

// splitmix64's finaliser: a bijective 64-bit mixer.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What a random stream is used for; keeps the streams independent.
enum class RngPurpose : std::uint64_t { Probability = 1, FlipBits = 2 };

// A splitmix64 stream whose starting state is a hash of its inputs.
class DetRng {
 public:
  DetRng(std::uint64_t seed, std::uint64_t rule_index, std::uint64_t match_count,
         RngPurpose purpose)
      : state_(mix64(mix64(mix64(mix64(seed) ^ rule_index) ^ match_count) ^
                     static_cast<std::uint64_t>(purpose))) {}

  std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 bits of precision.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift with rejection).
  std::uint64_t below(std::uint64_t n) {
    for (;;) {
      unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
      auto low = static_cast<std::uint64_t>(m);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(m >> 64);
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace fsfault::faults
