#include "hpcad/core/exact_sum.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

constexpr int kMantissaBits = 52;
constexpr std::uint64_t kMantissaMask = (std::uint64_t{1} << kMantissaBits) - 1;
constexpr int kExponentMask = 0x7FF;
constexpr int kDigitBits = 32;
constexpr std::uint64_t kDigitMask = (std::uint64_t{1} << kDigitBits) - 1;
// Weight of bit 0 of the fixed-point sum is 2^kBitZeroExponent.
constexpr int kBitZeroExponent = -1075;

using Digits = std::span<std::int64_t, ExactSum::kDigits>;

/// Carries everything above the low 32 bits of each digit into the next one; the top digit
/// keeps the sign. The result is canonical: equal sums give equal digits.
void normalize(Digits digits) {
  std::int64_t carry = 0;
  for (int i = 0; i + 1 < ExactSum::kDigits; ++i) {
    const std::int64_t d = digits[i] + carry;
    digits[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(d) & kDigitMask);
    carry = d >> kDigitBits;  // arithmetic shift: floor division, so negative sums borrow
  }
  digits[ExactSum::kDigits - 1] += carry;
}

/// Correctly rounds (to nearest, ties to even) the non-negative normalised integer `n`
/// times 2^kBitZeroExponent.
double round_to_double(std::span<const std::int64_t, ExactSum::kDigits> n) {
  const auto digit = [&](int i) {
    return i < ExactSum::kDigits ? static_cast<std::uint64_t>(n[i]) : std::uint64_t{0};
  };
  int top = ExactSum::kDigits - 1;
  while (top >= 0 && n[top] == 0) --top;
  if (top < 0) return 0.0;
  const int length = kDigitBits * top + static_cast<int>(std::bit_width(digit(top)));
  if (length <= kMantissaBits + 1)  // fits a double's mantissa: exact
    return std::ldexp(static_cast<double>(digit(0) | (digit(1) << kDigitBits)), kBitZeroExponent);
  // The 53 leading bits and the rounding bit below them; the rest only matters as "sticky".
  const int shift = length - (kMantissaBits + 2);
  const int q = shift / kDigitBits, r = shift % kDigitBits;
  const std::uint64_t window = (digit(q) >> r) | (digit(q + 1) << (kDigitBits - r)) |
                               (r != 0 ? digit(q + 2) << (2 * kDigitBits - r) : 0);
  bool sticky = (digit(q) & ((std::uint64_t{1} << r) - 1)) != 0;
  for (int i = 0; i < q && !sticky; ++i) sticky = n[i] != 0;
  std::uint64_t mantissa = window >> 1;
  if ((window & 1) != 0 && (sticky || (mantissa & 1) != 0)) ++mantissa;
  // ldexp is exact here (the result is normal) or overflows to inf, as IEEE rounding would.
  return std::ldexp(static_cast<double>(mantissa), shift + 1 + kBitZeroExponent);
}

}  // namespace

// Inlined into the loops of add_run and add: a call per value would cost as much as the add.
[[gnu::always_inline]] inline void ExactSum::add_no_carry(std::int64_t* digits, double value) {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const int field = static_cast<int>(bits >> kMantissaBits) & kExponentMask;
  if (field == kExponentMask) [[unlikely]] {
    add_special(value);
    return;
  }
  // Branch-free for zeros and subnormals: field 0 has no implicit bit and the scale of
  // field 1. value = mantissa * 2^(exponent + kBitZeroExponent).
  const std::uint64_t magnitude =
      (bits & kMantissaMask) | (std::uint64_t{field != 0} << kMantissaBits);
  const std::uint64_t sign = static_cast<std::uint64_t>(static_cast<std::int64_t>(bits) >> 63);
  const std::uint64_t mantissa = (magnitude ^ sign) - sign;  // two's complement of the value
  const int exponent = field + (field == 0);
  const int shift = exponent % kDigitBits;
  std::int64_t* digit = digits + exponent / kDigitBits;
  // mantissa * 2^shift = high * 2^32 + low with 0 <= low < 2^32: the arithmetic shift floors.
  digit[0] += static_cast<std::int64_t>((mantissa << shift) & kDigitMask);
  digit[1] += static_cast<std::int64_t>(mantissa) >> (kDigitBits - shift);
}

void ExactSum::add_run(std::span<const double> run) {
  if (run.size() < kMinInterleavedRun) {
    for (const double v : run) add_no_carry(digit_, v);
    return;
  }
  // Values of similar magnitude hit the same two digits, so each add would wait for the
  // previous one's store; alternating between two digit arrays halves that chain (about
  // 2.3 instead of 4 ns per value on Gaussian data).
  std::int64_t second[kDigits] = {};
  std::size_t i = 0;
  for (; i + 1 < run.size(); i += 2) {
    add_no_carry(digit_, run[i]);
    add_no_carry(second, run[i + 1]);
  }
  if (i < run.size()) add_no_carry(digit_, run[i]);
  // Together the two arrays took run.size() adds, within the carry budget.
  for (int k = 0; k < kDigits; ++k) digit_[k] += second[k];
}

void ExactSum::add_special(double value) {
  special_[std::isnan(value) ? kNaN : value > 0 ? kPosInf : kNegInf] = true;
}

void ExactSum::propagate_carries() {
  normalize(digit_);
  adds_until_carry_ = kAddsPerCarry;
}

void ExactSum::add(double value) {
  if (adds_until_carry_ == 0) propagate_carries();
  add_no_carry(digit_, value);
  --adds_until_carry_;
}

void ExactSum::add(std::span<const double> values) {
  while (!values.empty()) {
    if (adds_until_carry_ == 0) propagate_carries();
    const auto run =
        values.first(std::min(values.size(), static_cast<std::size_t>(adds_until_carry_)));
    add_run(run);  // no carry check per value (Neal's small superaccumulator)
    adds_until_carry_ -= static_cast<std::int64_t>(run.size());
    values = values.subspan(run.size());
  }
}

void ExactSum::add(const ExactSum& other) {
  std::int64_t words[kWords];
  other.to_words(words);
  propagate_carries();
  for (int i = 0; i < kDigits; ++i) digit_[i] += words[i];
  for (int k = 0; k < kSpecials; ++k) special_[k] = special_[k] || words[kDigits + k] != 0;
  propagate_carries();
}

double ExactSum::value() const {
  if (special_[kNaN] || (special_[kPosInf] && special_[kNegInf]))
    return std::numeric_limits<double>::quiet_NaN();
  if (special_[kPosInf]) return std::numeric_limits<double>::infinity();
  if (special_[kNegInf]) return -std::numeric_limits<double>::infinity();
  std::int64_t n[kDigits];
  std::copy(std::begin(digit_), std::end(digit_), n);
  normalize(n);
  const bool negative = n[kDigits - 1] < 0;
  if (negative) {
    for (auto& d : n) d = -d;
    normalize(n);
  }
  const double magnitude = round_to_double(n);
  return negative ? -magnitude : magnitude;
}

void ExactSum::to_words(std::span<std::int64_t> words) const {
  check_internal(words.size() == kWords, "ExactSum::to_words needs kWords words");
  std::copy(std::begin(digit_), std::end(digit_), words.begin());
  normalize(words.first<kDigits>());
  for (int k = 0; k < kSpecials; ++k) words[kDigits + k] = special_[k] ? 1 : 0;
}

void ExactSum::from_words(std::span<const std::int64_t> words) {
  check_internal(words.size() == kWords, "ExactSum::from_words needs kWords words");
  // A sum of up to 2^31 normalised digits stays below 2^63, and so does each carry step.
  std::copy_n(words.begin(), kDigits, digit_);
  propagate_carries();
  for (int k = 0; k < kSpecials; ++k) special_[k] = words[kDigits + k] != 0;
}

bool ExactSum::operator==(const ExactSum& other) const {
  std::int64_t mine[kWords], theirs[kWords];
  to_words(mine);
  other.to_words(theirs);
  return std::equal(std::begin(mine), std::end(mine), std::begin(theirs));
}

void allreduce_exact(Comm& comm, std::span<ExactSum> sums) {
  constexpr auto kWords = static_cast<std::size_t>(ExactSum::kWords);
  std::vector<std::int64_t> words(sums.size() * kWords);
  const std::span<std::int64_t> all(words);
  for (std::size_t i = 0; i < sums.size(); ++i) sums[i].to_words(all.subspan(i * kWords, kWords));
  comm.allreduce(all, ReduceOp::kSum);
  for (std::size_t i = 0; i < sums.size(); ++i) sums[i].from_words(all.subspan(i * kWords, kWords));
}

std::vector<double> exact_global_sums(Comm& comm, std::span<const ExactSum> local) {
  std::vector<ExactSum> sums(local.begin(), local.end());
  allreduce_exact(comm, sums);
  std::vector<double> values;
  values.reserve(sums.size());
  for (const ExactSum& s : sums) values.push_back(s.value());
  return values;
}

}  // namespace hpcad
