#pragma once
/// One-class SVM that scales, as scikit-learn's Nystroem + SGDOneClassSVM: an RBF kernel
/// k(x, y) = exp(-gamma |x - y|^2) approximated by the Nystroem map phi (n_components
/// landmark rows), then the linear one-class objective
///   J(w, rho) = 1/2 |w|^2 - rho + 1/(nu n) sum_i max(0, rho - w . phi(x_i))
/// minimised by minibatch SGD. Score = -decision function = rho - w . phi(z) (higher = more
/// anomalous; > 0 outside the learned region).
///
/// Why Nystroem and not random Fourier features: its basis is data-dependent, so it
/// approximates the kernel on the data much better for the same number of components (Yang
/// et al. 2012), which is what decides how close the detector comes to kernel OneClassSVM.
///
/// Distributed training: exact global scaling (column_moments); the landmarks are a sample
/// gathered by global row index (stored in the model); the training rows are a sample by
/// global row index that stays with the ranks holding it, mapped once; every step sums the
/// hinge subgradient terms of the minibatch exactly across ranks (minibatch.hpp). The model
/// is bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"
#include "hpcad/detectors/minibatch.hpp"

namespace hpcad {

class OneClassSvm final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit OneClassSvm(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "ocsvm"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(scaling_.mean.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Local. phi(z) of a scaled row into `out` (n_components values); `kernel` is scratch.
  void feature_map(const double* z, double* out, double* kernel) const;
  /// Local. SGD on the mapped training sample; sets coef_ and offset_.
  void train(Comm& comm, const SampleShard& shard, std::uint64_t seed);

  ParamSet params_;
  ColumnScaling scaling_;
  double gamma_ = 0;
  std::vector<double> landmarks_;      ///< m x d, scaled rows
  std::vector<double> normalization_;  ///< m x m, row-major: K_mm^(-1/2)
  std::vector<double> coef_;           ///< w, m values
  double offset_ = 0;                  ///< rho
};

}  // namespace hpcad
