#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "hpcad/core/rng.hpp"
#include "hpcad/eval/metrics.hpp"
#include "hpcad/eval/threshold.hpp"

namespace hpcad {
namespace {

// numpy.quantile(values, q) with the default 'linear' method, written out directly.
double numpy_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double t = h - static_cast<double>(lo);
  const double diff = v[hi] - v[lo];
  return t >= 0.5 ? v[hi] - diff * (1 - t) : v[lo] + diff * t;
}

std::vector<double> random_values(Index n, std::uint64_t seed, bool with_ties) {
  RandomStream rng(seed, "test.data", 1);
  std::vector<double> v;
  for (Index i = 0; i < n; ++i)
    v.push_back(with_ties ? std::floor(rng.uniform() * 5) - 2 : rng.normal() * 1e3);
  return v;
}

TEST(OrderStatistic, EveryRankMatchesSorting) {
  SerialComm comm;
  for (bool ties : {false, true}) {
    auto v = random_values(300, 3, ties);
    v.push_back(-0.0);
    v.push_back(0.0);
    v.push_back(-1e300);
    v.push_back(1e-300);
    auto sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (Index k = 0; k < static_cast<Index>(v.size()); ++k)
      ASSERT_EQ(global_order_statistic(comm, v, k), sorted[k]) << "k=" << k;
  }
}

TEST(GlobalQuantile, MatchesNumpyLinear) {
  SerialComm comm;
  for (Index n : {1, 2, 3, 10, 1001}) {
    for (bool ties : {false, true}) {
      const auto v = random_values(n, static_cast<std::uint64_t>(n), ties);
      for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.97, 0.99, 1.0})
        EXPECT_EQ(global_quantile(comm, v, q), numpy_quantile(v, q)) << "n=" << n << " q=" << q;
    }
  }
}

TEST(ContaminationThreshold, FlagsStrictlyAboveQuantile) {
  SerialComm comm;
  std::vector<double> scores;
  for (int i = 0; i < 100; ++i) scores.push_back(i);
  const ThresholdResult r = contamination_threshold(comm, scores, 0.05);
  EXPECT_DOUBLE_EQ(r.threshold, numpy_quantile(scores, 0.95));  // 94.05
  EXPECT_EQ(r.flagged, 5);
  EXPECT_EQ(r.total, 100);
  // All-equal scores: nothing is strictly above, ties are never flagged.
  const std::vector<double> same(50, 0.5);
  EXPECT_EQ(contamination_threshold(comm, same, 0.1).flagged, 0);
}

// Reference values from scikit-learn 1.2: roc_auc_score / average_precision_score.
TEST(Metrics, MatchScikitLearnOnSmallExamples) {
  SerialComm comm;
  const std::vector<double> s1 = {0.1, 0.4, 0.35, 0.8};
  const std::vector<std::int8_t> y1 = {0, 0, 1, 1};
  const BinaryMetrics m1 = evaluate_scores(comm, s1, y1, 0.5);
  EXPECT_DOUBLE_EQ(m1.roc_auc, 0.75);
  EXPECT_DOUBLE_EQ(m1.pr_auc, 0.8333333333333333);
  EXPECT_EQ(m1.true_positives, 1);
  EXPECT_EQ(m1.false_positives, 0);
  EXPECT_DOUBLE_EQ(m1.precision, 1.0);
  EXPECT_DOUBLE_EQ(m1.recall, 0.5);
  EXPECT_DOUBLE_EQ(m1.f1, 2.0 / 3.0);
  // Ties between classes count half (AUC) and share a threshold (AP).
  const std::vector<double> s2 = {0.5, 0.5, 0.2, 0.9, 0.9, 0.1};
  const std::vector<std::int8_t> y2 = {0, 1, 0, 1, 0, 1};
  const BinaryMetrics m2 = evaluate_scores(comm, s2, y2, 0.3);
  EXPECT_DOUBLE_EQ(m2.roc_auc, 0.4444444444444444);
  EXPECT_DOUBLE_EQ(m2.pr_auc, 0.5);
}

TEST(Metrics, SingleClassGivesNaNAucAndZeroFlaggedGivesZeroPrecision) {
  SerialComm comm;
  const std::vector<double> s = {0.1, 0.2};
  const std::vector<std::int8_t> y = {0, 0};
  const BinaryMetrics m = evaluate_scores(comm, s, y, 1.0);
  EXPECT_TRUE(std::isnan(m.roc_auc));
  EXPECT_TRUE(std::isnan(m.pr_auc));
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.recall, 0.0);
}

}  // namespace
}  // namespace hpcad
