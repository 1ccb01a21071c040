#pragma once
/// Exact distributed evaluation against 0/1 labels.
///
/// ROC-AUC and average precision are computed from exact integer counts: the anomaly
/// (positive) scores are allgathered (memory O(#positives) per rank), each rank counts its
/// normal rows below / equal to each distinct positive score, and one allreduce sums the
/// counts. The results equal scikit-learn's roc_auc_score and average_precision_score.
#include <cstdint>
#include <span>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"

namespace hpcad {

struct BinaryMetrics {
  Index positives = 0;
  Index negatives = 0;
  Index true_positives = 0;
  Index false_positives = 0;
  double roc_auc = 0;    ///< NaN when one class is absent
  double pr_auc = 0;     ///< average precision; NaN without positives
  double precision = 0;  ///< at the threshold (score > threshold flags); 0 when nothing flagged
  double recall = 0;
  double f1 = 0;
};

/// Collective. `labels` are 0 or 1, one per score.
BinaryMetrics evaluate_scores(Comm& comm, std::span<const double> scores,
                              std::span<const std::int8_t> labels, double threshold);

}  // namespace hpcad
