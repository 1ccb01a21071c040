#pragma once
/// PCA reconstruction error: the squared distance of a (standardised) row from its
/// projection onto the top principal components of the training rows, as scikit-learn's
/// StandardScaler + PCA(k) + inverse_transform.
///
/// Distributed training: exact global means and co-moments (column_moments: two passes,
/// exact sums, one reduction each), then the same eigen-decomposition on every rank, so the
/// model is bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

class Pca final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Pca(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "pca"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(mean_.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  ParamSet params_;
  std::vector<double> mean_, scale_;  ///< per feature: z = (x - mean) / scale
  std::vector<double> components_;    ///< k x d, row-major, orthonormal rows
};

}  // namespace hpcad
