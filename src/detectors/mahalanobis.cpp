#include "hpcad/detectors/mahalanobis.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

std::vector<ParamSpec> Mahalanobis::param_specs() {
  return {
      ParamSpec::real("shrinkage", 0.0, 0.0, 1.0,
                      "shrink the covariance towards mu * I (mu = its mean variance): "
                      "(1 - s) C + s mu I, as scikit-learn's ShrunkCovariance; 0 = empirical"),
      ParamSpec::boolean("standardize", true,
                         "compute the decomposition on standardised columns (better conditioned; "
                         "the distance is the same)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "unused: the fit is deterministic (kept for a uniform interface)"),
  };
}

void Mahalanobis::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features();
  if (source.global_rows() == 0) throw DataError("cannot fit mahalanobis: the input has no rows");
  const ColumnMoments moments = column_moments(source);
  const std::vector<double> scale =
      params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  Eigen::MatrixXd covariance = moments.covariance;
  for (Index j = 0; j < d; ++j)
    for (Index k = 0; k < d; ++k) covariance(j, k) /= scale[j] * scale[k];
  if (const double s = params_.real("shrinkage"); s > 0) {
    const double mu = covariance.trace() / static_cast<double>(d);
    covariance *= 1 - s;
    covariance.diagonal().array() += s * mu;
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  if (solver.info() != Eigen::Success)
    throw DataError("mahalanobis: the eigen-decomposition of the covariance did not converge");
  // Pseudo-inverse with scipy's pinvh cutoff: eigenvalues below d * eps * the largest count
  // as zero (directions without variance in the training rows).
  const Eigen::VectorXd& values = solver.eigenvalues();
  const double cutoff = static_cast<double>(d) * std::numeric_limits<double>::epsilon() *
                        values.cwiseAbs().maxCoeff();
  Eigen::VectorXd inverse = Eigen::VectorXd::Zero(d);
  Index rank = 0;
  for (Index j = 0; j < d; ++j)
    if (values[j] > cutoff) {
      inverse[j] = 1 / values[j];
      ++rank;
    }
  const Eigen::MatrixXd& vectors = solver.eigenvectors();
  const Eigen::MatrixXd scaled_precision = vectors * inverse.asDiagonal() * vectors.transpose();
  // Back to the original units: P = D^-1 P_scaled D^-1.
  mean_ = moments.mean;
  precision_.resize(static_cast<std::size_t>(d * d));
  for (Index j = 0; j < d; ++j)
    for (Index k = 0; k < d; ++k)
      precision_[j * d + k] = scaled_precision(j, k) / (scale[j] * scale[k]);
  context.log.debug("mahalanobis: covariance of rank {} of {}", rank, d);
}

void Mahalanobis::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> diff(static_cast<std::size_t>(d));
  for (Index i = 0; i < block.n_rows; ++i) {
    const auto x = block.row(i);
    for (Index j = 0; j < d; ++j) diff[j] = x[j] - mean_[j];
    double distance = 0;
    for (Index j = 0; j < d; ++j) {
      double row = 0;
      for (Index k = 0; k < d; ++k) row += precision_[j * d + k] * diff[k];
      distance += diff[j] * row;
    }
    out[i] = distance;
  }
}

ModelState Mahalanobis::save_state() const {
  ModelState state;
  state.reals["mean"] = mean_;
  state.reals["precision"] = precision_;
  return state;
}

void Mahalanobis::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  const auto& mean = state.real("mean", d);
  const auto& precision = state.real("precision", d * d);
  state.require_finite({"mean", "precision"}, "mahalanobis");
  mean_ = mean;
  precision_ = precision;
}

}  // namespace hpcad
