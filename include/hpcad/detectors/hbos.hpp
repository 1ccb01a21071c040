#pragma once
/// Histogram-based outlier score (Goldstein & Dengel 2012) with PyOD's HBOS conventions:
/// one histogram per feature; a value's contribution is -log2(density of its bin + alpha),
/// the row's score is the sum over features. A value outside the fitted range scores as its
/// edge bin when within tol bin widths of it, else as the emptiest bin.
///
/// Distributed training: the global minimum, maximum and non-NaN count of every column
/// (one reduction), the bin edges from them (static: n_bins equal widths, as numpy's
/// histogram) or from exact global quantiles (quantile: global_quantiles at i / n_bins,
/// about equal counts per bin, edges that coincide merged), then the bin counts of every column as
/// int64 sums (one reduction). Everything is exact, so the model is bitwise identical for any rank
/// count. With standardize, values are scaled by the global mean and standard deviation
/// first (stored): static and quantile bins then hold the same rows (up to rounding at an
/// edge), but densities are per scaled unit, so the regulariser alpha weighs differently.
#include <vector>

#include "hpcad/detectors/detector.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

class Hbos final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Hbos(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "hbos"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(edge_offsets_.size()) - 1; }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Local. Sets the per-bin scores from edges_ and density_.
  void derive_bin_scores();
  /// Local. Feature j's contribution for value x.
  double contribution(Index j, double x) const;

  ParamSet params_;
  ColumnScaling scaling_;  ///< applied before binning (the identity unless standardize)
  // The model: feature j's bin edges are edges_[edge_offsets_[j] .. edge_offsets_[j + 1])
  // (strictly increasing), its bins' densities density_[edge_offsets_[j] - j ..] (one
  // fewer than edges).
  std::vector<Index> edge_offsets_{0};
  std::vector<double> edges_;
  std::vector<double> density_;
  // Derived for scoring: -log2(density + alpha) per bin, and per feature the largest of
  // them (what a value far outside the range scores).
  std::vector<double> bin_score_;
  std::vector<double> outside_score_;
};

}  // namespace hpcad
