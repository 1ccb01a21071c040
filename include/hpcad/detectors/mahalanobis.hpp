#pragma once
/// Mahalanobis distance: the squared distance of a row from the training mean under the
/// inverse of the global covariance (optionally shrunk towards a scaled identity), as
/// scikit-learn's EmpiricalCovariance().mahalanobis (pseudo-inverse of a singular matrix).
///
/// Distributed training: exact global means and co-moments (column_moments), then the same
/// eigen-decomposition on every rank: the model is bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

class Mahalanobis final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Mahalanobis(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "mahalanobis"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(mean_.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  ParamSet params_;
  std::vector<double> mean_;       ///< per feature
  std::vector<double> precision_;  ///< d x d, row-major: the (pseudo-)inverse covariance
};

}  // namespace hpcad
