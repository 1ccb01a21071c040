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

#include "hpcad/comm/selection.hpp"
#include "hpcad/comm/thread_comm.hpp"

namespace hpcad {
namespace {

/// One case of the generated reference file (tests/unit/quantile_reference.py).
struct QuantileCase {
  std::string name;
  std::vector<double> values;
  std::vector<double> probs, expected;  // numpy.nanquantile(values, probs[k])
};

const std::vector<QuantileCase>& reference_cases() {
  static const std::vector<QuantileCase> cases = [] {
    std::vector<QuantileCase> parsed;
    std::ifstream in(HPCAD_QUANTILE_REFERENCE);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream header(line);
      std::string tag;
      std::size_t count = 0;
      QuantileCase c;
      header >> tag >> c.name >> count;
      if (tag != "case") break;
      c.values.resize(count);
      for (double& v : c.values) {
        std::getline(in, line);
        v = std::strtod(line.c_str(), nullptr);
      }
      while (in.peek() != 'c' && std::getline(in, line)) {
        std::istringstream row(line);
        std::string p, q;
        row >> p >> q;
        c.probs.push_back(std::strtod(p.c_str(), nullptr));
        c.expected.push_back(std::strtod(q.c_str(), nullptr));
      }
      parsed.push_back(std::move(c));
    }
    return parsed;
  }();
  return cases;
}

/// Bitwise equality, except that any NaN matches any NaN and -0.0 matches +0.0: numpy's
/// sort leaves equal values (the two zeros) in an unspecified order.
bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == 0 && b == 0) ||
         std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

/// Contiguous, uneven slices of `values` (some empty), one per rank.
std::vector<std::vector<double>> split(const std::vector<double>& values, int ranks,
                                       std::mt19937_64& rng) {
  std::vector<std::size_t> cuts = {0, values.size()};
  std::uniform_int_distribution<std::size_t> cut(0, values.size());
  for (int i = 1; i < ranks; ++i) cuts.push_back(cut(rng));
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::vector<double>> parts;
  for (int r = 0; r < ranks; ++r)
    parts.emplace_back(values.begin() + cuts[r], values.begin() + cuts[r + 1]);
  return parts;
}

TEST(GlobalQuantiles, ReferenceFileIsComplete) {
  EXPECT_EQ(reference_cases().size(), 13u) << "read from " << HPCAD_QUANTILE_REFERENCE;
}

TEST(GlobalQuantiles, EqualNumpyBitwiseForAnyRankCountAndSplit) {
  std::mt19937_64 rng(7);
  for (const QuantileCase& c : reference_cases()) {
    for (const int ranks : {1, 2, 3, 5, 16}) {
      const auto parts = split(c.values, ranks, rng);
      std::vector<std::vector<double>> results(ranks);
      run_on_threads(ranks, [&](Comm& comm) {
        results[comm.rank()] = global_quantiles(comm, parts[comm.rank()], c.probs);
      });
      for (int r = 0; r < ranks; ++r)
        for (std::size_t k = 0; k < c.probs.size(); ++k)
          EXPECT_TRUE(same(results[r][k], c.expected[k]))
              << c.name << ", " << ranks << " ranks, rank " << r << ", q = " << c.probs[k]
              << ": got " << std::hexfloat << results[r][k] << ", numpy " << c.expected[k];
    }
  }
}

TEST(GlobalQuantiles, ColumnsOfOnePassAreIndependent) {
  // Column c of the interleaved pass holds reference case c's values: each column's
  // quantiles must equal its case's, whatever the other columns hold.
  const auto& cases = reference_cases();
  const std::vector<double> probs = cases.front().probs;
  run_on_threads(3, [&](Comm& comm) {
    const ColumnPass pass = [&](const std::function<void(Index, double)>& visit) {
      for (std::size_t c = 0; c < cases.size(); ++c)
        for (std::size_t i = comm.rank(); i < cases[c].values.size(); i += comm.size())
          visit(static_cast<Index>(c), cases[c].values[i]);
    };
    const auto result = global_quantiles(comm, static_cast<Index>(cases.size()), pass, probs);
    for (std::size_t c = 0; c < cases.size(); ++c)
      for (std::size_t k = 0; k < probs.size(); ++k)
        EXPECT_TRUE(same(result[c][k], cases[c].expected[k]))
            << cases[c].name << " as column " << c << ", q = " << probs[k];
  });
}

TEST(GlobalQuantiles, ManyProbabilitiesNeedFewPasses) {
  // A 1001-point quantile table (rank normalisation) over 200k values: every point exact,
  // with a bounded number of passes over the values.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::vector<double> values(200'000);
  for (double& v : values) v = normal(rng);
  std::vector<double> probs;
  for (int i = 0; i <= 1000; ++i) probs.push_back(i / 1000.0);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  int passes = 0;
  run_on_threads(2, [&](Comm& comm) {
    const std::size_t half = values.size() / 2;
    const std::span<const double> local(values.data() + (comm.rank() == 0 ? 0 : half),
                                        comm.rank() == 0 ? half : values.size() - half);
    const ColumnPass pass = [&](const std::function<void(Index, double)>& visit) {
      if (comm.rank() == 0) ++passes;
      for (const double x : local) visit(0, x);
    };
    const auto result = global_quantiles(comm, 1, pass, probs)[0];
    // Exact order statistics wherever the virtual index is an integer: i/1000 * 199999
    // is one for i = 0 and i = 1000 only, so check those and monotonicity elsewhere.
    if (comm.rank() == 0) {
      EXPECT_EQ(result.front(), sorted.front());
      EXPECT_EQ(result.back(), sorted.back());
      EXPECT_TRUE(std::is_sorted(result.begin(), result.end()));
    }
  });
  EXPECT_LE(passes, 6);
}

TEST(GlobalQuantiles, RefusesProbabilitiesOutsideTheUnitInterval) {
  SerialComm comm;
  const std::vector<double> values = {1, 2, 3};
  for (const double p : {-0.1, 1.5, std::nan("")})
    EXPECT_THROW(global_quantiles(comm, values, std::vector<double>{p}), InternalError);
}

}  // namespace
}  // namespace hpcad
