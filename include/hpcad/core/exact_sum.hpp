#pragma once
/// Exact, order-independent summation of doubles, so that global statistics (means,
/// co-moments, gradient sums) are bitwise identical for any number of ranks and any
/// blocking of the rows: the sum is kept exactly (a fixed-point superaccumulator covering
/// the whole double range, after Neal 2015) and rounded once, correctly, at the end.
#include <cstdint>
#include <span>
#include <vector>

#include "hpcad/comm/comm.hpp"

namespace hpcad {

class ExactSum {
 public:
  /// Number of int64 words in the rank-to-rank representation (see words()).
  static constexpr int kWords = 67;

  ExactSum() = default;

  /// Local. Adds one value exactly. NaN and infinities are tracked and give the IEEE
  /// result of the plain sum (NaN, or +-inf, or NaN for +inf + -inf).
  void add(double value);
  /// Local. Adds several values.
  void add(std::span<const double> values);
  /// Local. Adds another accumulator exactly.
  void add(const ExactSum& other);

  /// Local. The sum, correctly rounded to the nearest double (ties to even).
  double value() const;

  /// Local. The normalised state as kWords int64 words whose element-wise integer sum over
  /// several accumulators (up to 2^31 of them) represents their exact total; see
  /// from_words().
  void to_words(std::span<std::int64_t> words) const;
  /// Local. Replaces this accumulator with the one represented by `words` (possibly the
  /// element-wise sum of several to_words() outputs).
  void from_words(std::span<const std::int64_t> words);

  bool operator==(const ExactSum& other) const;

 private:
  // Implementation-defined; private so it can change with the algorithm.
  std::int64_t chunk_[kWords - 3] = {};
  std::int64_t adds_until_carry_ = 0;
  std::int64_t inf_nan_[2] = {};  // counts of +inf, -inf; NaN seen recorded separately
  bool nan_ = false;
};

/// Collective. Replaces every accumulator in `sums` with the exact element-wise total over
/// all ranks (one int64 allreduce of kWords words per accumulator).
void allreduce_exact(Comm& comm, std::span<ExactSum> sums);

/// Collective. Correctly rounded exact sums over ranks of each rank's `values`
/// (element-wise), as doubles.
std::vector<double> exact_global_sums(Comm& comm, std::span<const ExactSum> local);

}  // namespace hpcad
