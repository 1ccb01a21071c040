#pragma once
/// Exact, order-independent summation of doubles, so that global statistics (means,
/// co-moments, gradient sums) are bitwise identical for any number of ranks and any
/// blocking of the rows: the sum is kept exactly (a fixed-point superaccumulator covering
/// the whole double range, after Neal 2015) and rounded once, correctly, at the end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hpcad/comm/comm.hpp"

namespace hpcad {

class ExactSum {
 public:
  /// Number of 32-bit digits of the fixed-point sum: bit 0 weighs 2^-1075 (half the smallest
  /// subnormal, so a double's exponent field indexes its bits directly, as in Neal's xsum),
  /// the largest double reaches bit 2098, and 64 more bits of growth plus a sign make room
  /// for the total of up to 2^64 values of any size.
  static constexpr int kDigits = 68;
  /// Number of int64 words in the rank-to-rank representation (see to_words()): the digits,
  /// then flags for +inf, -inf and NaN seen.
  static constexpr int kWords = kDigits + 3;

  ExactSum() = default;

  /// Local. Adds one value exactly. NaN and infinities are tracked and give the IEEE
  /// result of the plain sum (NaN, or +-inf, or NaN for +inf + -inf).
  void add(double value);
  /// Local. Adds several values.
  void add(std::span<const double> values);
  /// Local. Adds another accumulator exactly.
  void add(const ExactSum& other);

  /// Local. The sum, correctly rounded to the nearest double (ties to even); +-inf when
  /// that overflows. An exact zero (including the empty sum) gives +0.0.
  double value() const;

  /// Local. The normalised state as kWords int64 words whose element-wise integer sum over
  /// several accumulators (up to 2^31 of them) represents their exact total; see
  /// from_words().
  void to_words(std::span<std::int64_t> words) const;
  /// Local. Replaces this accumulator with the one represented by `words` (possibly the
  /// element-wise sum of several to_words() outputs).
  void from_words(std::span<const std::int64_t> words);

  /// Local. True iff both hold the same exact sum and saw the same infinities and NaNs.
  bool operator==(const ExactSum& other) const;

 private:
  enum Special { kPosInf, kNegInf, kNaN, kSpecials };
  /// A normalised digit grows by less than 2^52 per add, so this many adds keep every digit
  /// below 2^32 + (2^11 - 1) 2^52 < 2^63.
  static constexpr std::int64_t kAddsPerCarry = (std::int64_t{1} << 11) - 1;

  /// Below this many values, zeroing and merging add_run's second digit array costs more
  /// than it saves.
  static constexpr std::size_t kMinInterleavedRun = 128;

  /// Adds a value to `digits` (digit_ or a scratch array of kDigits) without checking
  /// whether a carry propagation is due.
  void add_no_carry(std::int64_t* digits, double value);
  /// Adds at most adds_until_carry_ values without carry propagation.
  void add_run(std::span<const double> run);
  /// Records an infinity or NaN (the rare path of add_no_carry).
  void add_special(double value);
  /// Brings every digit but the top one into [0, 2^32), so 2^11 - 1 more adds cannot
  /// overflow a digit.
  void propagate_carries();

  // digit_[i] weighs 2^(32 i - 1075). Between carry propagations the digits are not
  // normalised; adds_until_carry_ counts how many adds may still go in before one is due.
  std::int64_t digit_[kDigits] = {};
  std::int64_t adds_until_carry_ = kAddsPerCarry;
  bool special_[kSpecials] = {};
};

/// Collective. Replaces every accumulator in `sums` with the exact element-wise total over
/// all ranks (one int64 allreduce of kWords words per accumulator).
void allreduce_exact(Comm& comm, std::span<ExactSum> sums);

/// Collective. Correctly rounded exact sums over ranks of each rank's `values`
/// (element-wise), as doubles.
std::vector<double> exact_global_sums(Comm& comm, std::span<const ExactSum> local);

}  // namespace hpcad
