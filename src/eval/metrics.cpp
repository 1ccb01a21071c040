#include "hpcad/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "hpcad/core/error.hpp"

namespace hpcad {

BinaryMetrics evaluate_scores(Comm& comm, std::span<const double> scores,
                              std::span<const std::int8_t> labels, double threshold) {
  check_internal(scores.size() == labels.size(), "one label per score");
  BinaryMetrics m;
  // Sized up front: growing by doubling copies the negatives again at every step, and the
  // last step holds the old and the new copy at once (the rank's peak RSS when streaming).
  const auto n_positive = static_cast<std::size_t>(
      std::count_if(labels.begin(), labels.end(), [](std::int8_t y) { return y != 0; }));
  std::vector<double> local_positive, local_negative;
  local_positive.reserve(n_positive);
  local_negative.reserve(scores.size() - n_positive);
  std::int64_t counts[2] = {0, 0};  // true positives, false positives at the threshold
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const bool flagged = scores[i] > threshold;
    if (labels[i] != 0) {
      local_positive.push_back(scores[i]);
      counts[0] += flagged;
    } else {
      local_negative.push_back(scores[i]);
      counts[1] += flagged;
    }
  }
  comm.allreduce(counts, ReduceOp::kSum);
  m.true_positives = counts[0];
  m.false_positives = counts[1];

  std::vector<double> positive = comm.allgatherv(std::span<const double>(local_positive));
  std::sort(positive.begin(), positive.end());
  std::sort(local_negative.begin(), local_negative.end());
  // Distinct positive scores u_j with multiplicity; per u_j the negatives below / equal.
  std::vector<double> distinct;
  std::vector<Index> multiplicity;
  for (double s : positive) {
    if (distinct.empty() || distinct.back() != s) {
      distinct.push_back(s);
      multiplicity.push_back(0);
    }
    ++multiplicity.back();
  }
  const std::size_t n_distinct = distinct.size();
  std::vector<std::int64_t> negatives_below_equal(2 * n_distinct + 1);
  for (std::size_t j = 0; j < n_distinct; ++j) {
    const auto lo = std::lower_bound(local_negative.begin(), local_negative.end(), distinct[j]);
    const auto hi = std::upper_bound(lo, local_negative.end(), distinct[j]);
    negatives_below_equal[2 * j] = lo - local_negative.begin();
    negatives_below_equal[2 * j + 1] = hi - lo;
  }
  negatives_below_equal[2 * n_distinct] = static_cast<std::int64_t>(local_negative.size());
  comm.allreduce(negatives_below_equal, ReduceOp::kSum);

  m.positives = static_cast<Index>(positive.size());
  m.negatives = negatives_below_equal[2 * n_distinct];
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // AUC = P(s+ > s-) + P(s+ = s-)/2, numerator kept exact in integers (twice its value).
  if (m.positives > 0 && m.negatives > 0) {
    std::int64_t twice_wins = 0;
    for (std::size_t j = 0; j < n_distinct; ++j)
      twice_wins +=
          multiplicity[j] * (2 * negatives_below_equal[2 * j] + negatives_below_equal[2 * j + 1]);
    m.roc_auc = static_cast<double>(twice_wins) /
                (2.0 * static_cast<double>(m.positives) * static_cast<double>(m.negatives));
  } else {
    m.roc_auc = nan;
  }
  // Average precision: sum over distinct positive scores t (descending) of
  // (recall step) * precision at t, with tp(t) = #pos >= t and fp(t) = #neg >= t.
  if (m.positives > 0) {
    double ap = 0;
    Index tp = 0;
    for (std::size_t jj = n_distinct; jj-- > 0;) {
      tp += multiplicity[jj];
      const Index fp = m.negatives - negatives_below_equal[2 * jj];
      ap += (static_cast<double>(multiplicity[jj]) / static_cast<double>(m.positives)) *
            (static_cast<double>(tp) / static_cast<double>(tp + fp));
    }
    m.pr_auc = ap;
  } else {
    m.pr_auc = nan;
  }
  const Index flagged = m.true_positives + m.false_positives;
  m.precision = flagged ? static_cast<double>(m.true_positives) / flagged : 0.0;
  m.recall = m.positives ? static_cast<double>(m.true_positives) / m.positives : 0.0;
  m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  return m;
}

}  // namespace hpcad
