#pragma once
/// k-means distance: the Euclidean distance of a (standardised) row to its nearest centre,
/// optionally divided by that cluster's mean distance, as scikit-learn's StandardScaler +
/// KMeans(k).transform(X).min(axis=1).
///
/// Distributed training: global mean and scale (exact moments); initial centres by
/// k-means++ on a sample drawn by global row index (the same on every rank); Lloyd
/// iterations whose per-cluster sums (ExactSum) and counts are combined by one reduction per
/// iteration; an empty cluster is re-seeded deterministically with the sample row farthest
/// from its centre. The model is bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

class KMeans final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit KMeans(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "kmeans"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(mean_.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Squared distance of standardised row `z` to its nearest centre, and that centre.
  std::pair<double, Index> nearest(const double* z) const;
  void standardize(std::span<const double> x, double* z) const;

  ParamSet params_;
  std::vector<double> mean_, scale_;   ///< z = (x - mean) / scale
  std::vector<double> centres_;        ///< k x d, row-major, in standardised units
  std::vector<double> cluster_scale_;  ///< per centre: mean distance (relative = true), else 1
};

}  // namespace hpcad
