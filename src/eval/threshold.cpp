#include "hpcad/eval/threshold.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

constexpr int kDigitBits = 16;
constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;

/// Monotone map from doubles to unsigned keys: a < b  <=>  key(a) < key(b).
std::uint64_t order_key(double x) {
  const auto bits = std::bit_cast<std::uint64_t>(x == 0.0 ? 0.0 : x);  // -0 == +0
  return (bits >> 63) ? ~bits : bits | (std::uint64_t{1} << 63);
}

double from_order_key(std::uint64_t key) {
  const std::uint64_t bits = (key >> 63) ? key & ~(std::uint64_t{1} << 63) : ~key;
  return std::bit_cast<double>(bits);
}

Index count_global(Comm& comm, std::span<const double> local, auto predicate) {
  std::int64_t count = 0;
  for (double x : local) count += predicate(x) ? 1 : 0;
  return comm.allreduce_value(count, ReduceOp::kSum);
}

// numpy's _lerp: a + (b - a) t, computed from the nearer end for t >= 0.5.
double numpy_lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace

double global_order_statistic(Comm& comm, std::span<const double> local, Index k) {
  // Invariant: the answer's key has `prefix` in its top `fixed` bits, and k is its rank
  // among the values that share that prefix.
  std::uint64_t prefix = 0;
  int fixed = 0;
  std::vector<std::int64_t> histogram(kBuckets);
  while (fixed < 64) {
    std::fill(histogram.begin(), histogram.end(), 0);
    const int shift = 64 - fixed - kDigitBits;
    for (double x : local) {
      const std::uint64_t key = order_key(x);
      if (fixed > 0 && (key >> (64 - fixed)) != prefix) continue;
      ++histogram[(key >> shift) & (kBuckets - 1)];
    }
    comm.allreduce(histogram, ReduceOp::kSum);
    std::size_t bucket = 0;
    while (bucket < kBuckets && k >= histogram[bucket]) k -= histogram[bucket++];
    if (bucket == kBuckets) throw InternalError("order statistic rank beyond the value count");
    prefix = (prefix << kDigitBits) | bucket;
    fixed += kDigitBits;
  }
  return from_order_key(prefix);
}

double global_quantile(Comm& comm, std::span<const double> local, double q) {
  const Index n = comm.allreduce_value(static_cast<std::int64_t>(local.size()), ReduceOp::kSum);
  if (n == 0) throw DataError("cannot take a quantile of no values");
  const double position = q * static_cast<double>(n - 1);  // numpy's 'linear' virtual index
  const Index below = std::clamp<Index>(static_cast<Index>(std::floor(position)), 0, n - 1);
  const double fraction = position - static_cast<double>(below);
  const double a = global_order_statistic(comm, local, below);
  if (below + 1 >= n) return a;
  // The next order statistic is `a` again if `a` repeats past rank `below`, else the
  // smallest value above `a`.
  const Index at_most_a = count_global(comm, local, [a](double x) { return x <= a; });
  double b = a;
  if (at_most_a <= below + 1) {
    double next = std::numeric_limits<double>::infinity();
    for (double x : local)
      if (x > a) next = std::min(next, x);
    b = comm.allreduce_value(next, ReduceOp::kMin);
  }
  return numpy_lerp(a, b, fraction);
}

ThresholdResult fixed_threshold(Comm& comm, std::span<const double> scores, double threshold) {
  ThresholdResult result;
  result.threshold = threshold;
  result.flagged = count_global(comm, scores, [threshold](double x) { return x > threshold; });
  result.total = comm.allreduce_value(static_cast<std::int64_t>(scores.size()), ReduceOp::kSum);
  return result;
}

ThresholdResult contamination_threshold(Comm& comm, std::span<const double> scores,
                                        double contamination) {
  check_internal(contamination >= 0 && contamination <= 1, "contamination in [0, 1]");
  return fixed_threshold(comm, scores, global_quantile(comm, scores, 1.0 - contamination));
}

}  // namespace hpcad
