#pragma once
/// Autoencoder reconstruction error: a small fully connected network (hidden layer sizes a
/// parameter, relu or tanh on hidden layers, linear output) trained with Adam to reproduce
/// its standardised input; score = mean squared reconstruction error of the row over its
/// features, in standardised units.
///
/// Distributed training, data parallel: exact global scaling (column_moments); a training
/// sample drawn by global row index stays with the ranks holding it; each minibatch (the same
/// sample positions on every rank) sums the per-row gradients exactly across ranks; early
/// stopping on a held-out part of the sample whose loss is also an exact sum. Every rank
/// applies the same Adam step, so the model is bitwise identical for any rank count.
///
/// Model state: "layer_sizes" (d, hidden..., d) and "weights": per layer l, W_l
/// (out x in, stored column-major, i.e. the rows of W_l^T) followed by its bias b_l.
#include <Eigen/Dense>
#include <vector>

#include "hpcad/detectors/detector.hpp"
#include "hpcad/detectors/minibatch.hpp"

namespace hpcad {

class Autoencoder final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Autoencoder(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "autoencoder"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(scaling_.mean.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Local. Layer outputs for input z: activations[0] = z, activations[l + 1] = f(W_l a_l +
  /// b_l) (f the identity on the output layer). Eigen-owned vectors throughout, so the
  /// arithmetic does not depend on where a row lives in memory (hence on the rank).
  void forward(const Eigen::VectorXd& z, std::vector<Eigen::VectorXd>& activations) const;
  /// Local. The gradient of the row's loss mean((output - z)^2) in the flat weight layout.
  void row_gradient(const double* z, std::span<double> out) const;
  /// Local. The row's loss.
  double row_loss(const double* z) const;
  std::vector<double> flat_weights() const;
  void set_flat_weights(std::span<const double> flat);
  Index weight_count() const;

  ParamSet params_;
  ColumnScaling scaling_;
  bool tanh_ = false;
  std::vector<Eigen::MatrixXd> weights_;  ///< layer l: out x in
  std::vector<Eigen::VectorXd> biases_;
};

}  // namespace hpcad
