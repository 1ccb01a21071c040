#pragma once
/// Counter-based random streams. A stream is identified by (seed, name, id): the n-th
/// draw of a stream is a pure function of those and n, so any rank can reproduce any
/// stream (e.g. "the sample of tree 17") without communication and independent of how
/// the data is split. Names ("iforest.sample", "kmeans.init") keep the streams of
/// different uses independent without a central list every detector must edit.
#include <cstdint>
#include <string_view>
#include <vector>

#include "hpcad/core/types.hpp"

namespace hpcad {

/// SplitMix64 finaliser: a bijective 64-bit mixer.
std::uint64_t mix64(std::uint64_t x);

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::string_view name, std::uint64_t id);

  /// Next raw 64-bit value.
  std::uint64_t next_u64() { return mix64(key_ + (counter_++) * kGamma); }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, bound) for bound >= 1 (multiply-shift; bias below 2^-64 * bound).
  std::uint64_t below(std::uint64_t bound) {
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(next_u64()) * bound) >> 64);
  }
  /// Standard normal draw (Box-Muller, one value per two uniforms).
  double normal();

 private:
  static constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

/// `count` distinct integers drawn uniformly from [0, population), sorted ascending
/// (Floyd's algorithm). Requires count <= population.
std::vector<Index> sample_without_replacement(Index population, Index count, RandomStream& rng);

}  // namespace hpcad
