#include "hpcad/core/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_set>

#include "hpcad/core/error.hpp"

namespace hpcad {

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

namespace {

/// FNV-1a: a stable 64-bit hash of the stream name (std::hash may differ between builds).
std::uint64_t name_hash(std::string_view name) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (const char c : name) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  return hash;
}

}  // namespace

RandomStream::RandomStream(std::uint64_t seed, std::string_view name, std::uint64_t id)
    : key_(mix64(mix64(mix64(seed) ^ name_hash(name)) ^ id)) {}

double RandomStream::normal() {
  // 1 - uniform() is in (0, 1], so the log is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::vector<Index> sample_without_replacement(Index population, Index count, RandomStream& rng) {
  check_internal(count >= 0 && count <= population, "sample size within population");
  std::vector<Index> chosen;
  chosen.reserve(static_cast<std::size_t>(count));
  if (count == population) {
    for (Index i = 0; i < population; ++i) chosen.push_back(i);
    return chosen;
  }
  std::unordered_set<Index> seen;
  seen.reserve(static_cast<std::size_t>(count) * 2);
  for (Index j = population - count; j < population; ++j) {
    const Index t = static_cast<Index>(rng.below(static_cast<std::uint64_t>(j) + 1));
    const Index pick = seen.insert(t).second ? t : j;
    if (pick == j) seen.insert(j);
    chosen.push_back(pick);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace hpcad
