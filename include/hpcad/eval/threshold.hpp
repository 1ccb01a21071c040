#pragma once
/// Exact global order statistics and the contamination threshold, computed without
/// gathering the values: a radix select over the order-preserving 64-bit keys of the
/// doubles, one allreduce'd 16-bit histogram per digit (4 rounds of 512 KiB).
#include <span>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"

namespace hpcad {

/// Collective. The k-th smallest (0-based) of all ranks' finite values. Requires
/// 0 <= k < global count.
double global_order_statistic(Comm& comm, std::span<const double> local, Index k);

/// Collective. The q-quantile of all ranks' finite values with numpy's default
/// ('linear') interpolation: np.quantile(all_values, q). Requires a non-empty input.
double global_quantile(Comm& comm, std::span<const double> local, double q);

struct ThresholdResult {
  double threshold = 0;
  Index flagged = 0;  ///< rows with score > threshold
  Index total = 0;
  double achieved_fraction() const { return total ? static_cast<double>(flagged) / total : 0.0; }
};

/// Collective. Rows with score > threshold are anomalies. With a contamination c the
/// threshold is np.quantile(scores, 1 - c), as scikit-learn's IsolationForest offset_, so
/// ties at the threshold are never flagged and the achieved fraction is at most c up to ties.
ThresholdResult contamination_threshold(Comm& comm, std::span<const double> scores,
                                        double contamination);

/// Collective. Counts the rows above a fixed score threshold.
ThresholdResult fixed_threshold(Comm& comm, std::span<const double> scores, double threshold);

}  // namespace hpcad
