#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hpcad/core/exact_sum.hpp"

namespace hpcad {
namespace {

/// One case of the generated reference file (tests/unit/exact_sum_reference.py): inputs and
/// the correctly rounded sum from Python's integer arithmetic / math.fsum / numpy.sum.
struct ReferenceCase {
  std::string name;
  std::vector<double> values;
  double expected = 0;
};

double parse_hex(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

const std::vector<ReferenceCase>& reference_cases() {
  static const std::vector<ReferenceCase> cases = [] {
    std::vector<ReferenceCase> parsed;
    std::ifstream in(HPCAD_EXACT_SUM_REFERENCE);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream header(line);
      std::string tag, expected;
      std::size_t count = 0;
      ReferenceCase c;
      header >> tag >> c.name >> count >> expected;
      c.expected = parse_hex(expected);
      c.values.resize(count);
      for (double& v : c.values) {
        std::getline(in, line);
        v = parse_hex(line);
      }
      parsed.push_back(std::move(c));
    }
    return parsed;
  }();
  return cases;
}

/// Bitwise equality (so -0.0 != +0.0), except that any NaN matches any NaN.
void expect_same(double actual, double expected, const std::string& context) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << context << ": got " << std::hexfloat << actual;
  } else {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(actual), std::bit_cast<std::uint64_t>(expected))
        << context << ": got " << std::hexfloat << actual << ", expected " << expected;
  }
}

ExactSum sum_of(std::span<const double> values) {
  ExactSum sum;
  sum.add(values);
  return sum;
}

/// `values` cut at k - 1 random places (pieces may be empty), summed piece by piece.
std::vector<ExactSum> split_sums(std::span<const double> values, int k, std::mt19937_64& rng) {
  std::vector<std::size_t> cuts = {0, values.size()};
  std::uniform_int_distribution<std::size_t> cut(0, values.size());
  for (int i = 1; i < k; ++i) cuts.push_back(cut(rng));
  std::sort(cuts.begin(), cuts.end());
  std::vector<ExactSum> pieces;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
    pieces.push_back(sum_of(values.subspan(cuts[i], cuts[i + 1] - cuts[i])));
  return pieces;
}

TEST(ExactSum, ReferenceFileIsComplete) {
  // Fixed cases, 350 random ones, two of a million values, six with infinities or NaN.
  EXPECT_GE(reference_cases().size(), 375u) << "read from " << HPCAD_EXACT_SUM_REFERENCE;
}

TEST(ExactSum, MatchesCorrectlyRoundedReference) {
  for (const ReferenceCase& c : reference_cases()) {
    const ExactSum block = sum_of(c.values);
    expect_same(block.value(), c.expected, c.name);
    ExactSum one_by_one;
    for (const double v : c.values) one_by_one.add(v);
    EXPECT_TRUE(one_by_one == block) << c.name;
  }
}

TEST(ExactSum, AnySplitMergesToTheSameSum) {
  std::mt19937_64 rng(7);
  for (const ReferenceCase& c : reference_cases()) {
    const ExactSum whole = sum_of(c.values);
    for (int k = 1; k <= 16; ++k) {
      const std::vector<ExactSum> pieces = split_sums(c.values, k, rng);
      ExactSum merged;
      std::vector<std::int64_t> word_total(ExactSum::kWords), words(ExactSum::kWords);
      for (auto piece = pieces.rbegin(); piece != pieces.rend(); ++piece) {
        merged.add(*piece);
        piece->to_words(words);
        for (int i = 0; i < ExactSum::kWords; ++i) word_total[i] += words[i];
      }
      ExactSum from_words;
      from_words.from_words(word_total);
      const std::string context = c.name + " split in " + std::to_string(k);
      EXPECT_TRUE(merged == whole) << context;
      EXPECT_TRUE(from_words == whole) << context;
      expect_same(from_words.value(), c.expected, context);
    }
  }
}

TEST(ExactSum, WordsStayInRangeForTwoToThe31Ranks) {
  // Digits in [0, 2^32), the signed top digit in [-2^31, 2^31), flags 0 or 1: so the
  // element-wise int64 sum over 2^31 ranks cannot overflow.
  for (const ReferenceCase& c : reference_cases()) {
    std::vector<std::int64_t> words(ExactSum::kWords);
    sum_of(c.values).to_words(words);
    for (int i = 0; i + 1 < ExactSum::kDigits; ++i)
      EXPECT_TRUE(words[i] >= 0 && words[i] < (std::int64_t{1} << 32)) << c.name << " " << i;
    EXPECT_LT(std::abs(words[ExactSum::kDigits - 1]), std::int64_t{1} << 31) << c.name;
    for (int i = ExactSum::kDigits; i < ExactSum::kWords; ++i)
      EXPECT_TRUE(words[i] == 0 || words[i] == 1) << c.name;
  }
}

TEST(ExactSum, ManyNegativeCopiesThroughWords) {
  // Negative totals borrow through every digit; a thousand of them summed as words.
  const std::vector<double> values = {std::ldexp(-1.0, 990), 0x1p-1060, -7.5};
  const ExactSum one = sum_of(values);
  std::vector<std::int64_t> words(ExactSum::kWords), total(ExactSum::kWords);
  one.to_words(words);
  ExactSum expected;
  for (int copy = 0; copy < 1000; ++copy) {
    for (int i = 0; i < ExactSum::kWords; ++i) total[i] += words[i];
    expected.add(one);
  }
  ExactSum merged;
  merged.from_words(total);
  EXPECT_TRUE(merged == expected);
  // 1000 * -2^990 is a double; the small terms move the total by far less than half an ulp.
  expect_same(merged.value(), std::ldexp(-1000.0, 990), "1000 copies");
}

TEST(ExactSum, SerialCommAllreduce) {
  SerialComm comm;
  std::vector<ExactSum> sums;
  std::vector<double> expected;
  for (const ReferenceCase& c : reference_cases()) {
    if (c.values.size() > 1000) continue;
    sums.push_back(sum_of(c.values));
    expected.push_back(c.expected);
  }
  const std::vector<double> global = exact_global_sums(comm, sums);
  ASSERT_EQ(global.size(), expected.size());
  for (std::size_t i = 0; i < global.size(); ++i) expect_same(global[i], expected[i], "global");
  const std::vector<ExactSum> before = sums;
  allreduce_exact(comm, sums);
  for (std::size_t i = 0; i < sums.size(); ++i) EXPECT_TRUE(sums[i] == before[i]) << i;
}

TEST(ExactSum, SpecialsAnywhereInLongRuns) {
  // Long spans alternate between two digit arrays; an infinity or NaN counts in either.
  std::vector<double> values(1000, 1.0);
  for (const std::size_t at : {0, 501, 998, 999}) {
    values[at] = -INFINITY;
    expect_same(sum_of(values).value(), -INFINITY, "-inf at " + std::to_string(at));
    values[at] = NAN;
    expect_same(sum_of(values).value(), NAN, "NaN at " + std::to_string(at));
    values[at] = 1.0;
  }
  expect_same(sum_of(values).value(), 1000.0, "no specials");
}

TEST(ExactSum, EmptyIsPositiveZero) {
  const ExactSum empty;
  expect_same(empty.value(), 0.0, "empty");
  expect_same(sum_of(std::vector<double>{-0.0, 0.0}).value(), 0.0, "signed zeros");
  EXPECT_TRUE(empty == sum_of(std::vector<double>{2.5, -2.5}));
  EXPECT_FALSE(empty == sum_of(std::vector<double>{5e-324}));
}

}  // namespace
}  // namespace hpcad
