#pragma once
/// k-means distance: the Euclidean distance of a (standardised) row to its nearest centre,
/// optionally divided by that cluster's mean distance, as scikit-learn's StandardScaler +
/// KMeans(k).transform(X).min(axis=1).
///
/// Distributed training: global mean and scale (exact moments); initial points identical on
/// every rank: a sample drawn by global row index (k-means++), or k-means|| candidates
/// (Bahmani et al. 2012: rows joining with probability proportional to their squared
/// distance, decided per global row, weighted by the rows nearest to them); n_init greedy
/// k-means++ seedings of those points, each refined by Lloyd on them, the lowest inertia
/// kept (scikit-learn's n_init, on the points instead of all rows); then Lloyd
/// iterations whose per-cluster sums (ExactSum) and counts are combined by one reduction per
/// iteration; an empty cluster is re-seeded deterministically with the sample row farthest
/// from its centre. The model is bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

struct WeightedPoints;

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
  /// Collective. The k-means++ initial points: a global sample, standardised, unit weights.
  WeightedPoints sampled_points(RowSource& source, std::uint64_t seed) const;
  /// Collective. The k-means|| candidates, standardised, weighted.
  WeightedPoints parallel_candidates(RowSource& source, std::uint64_t seed) const;

  ParamSet params_;
  std::vector<double> mean_, scale_;   ///< z = (x - mean) / scale
  std::vector<double> centres_;        ///< k x d, row-major, in standardised units
  std::vector<double> cluster_scale_;  ///< per centre: mean distance (relative = true), else 1
};

}  // namespace hpcad
