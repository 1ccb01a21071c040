#include "hpcad/detectors/pca.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {
namespace {

/// Components to keep: n_components if set, else the fewest reaching explained_variance,
/// else half the features (at least one), as the ADBench reference's PCA(d/2).
Index component_count(const ParamSet& params, const Eigen::VectorXd& descending, Index d) {
  if (const Index k = params.integer("n_components"); k > 0) {
    if (k > d)
      throw ConfigError(
          fmt::format("detector.n_components = {}: the input has only {} features", k, d));
    return k;
  }
  if (const double fraction = params.real("explained_variance"); fraction > 0) {
    const double total = std::max(descending.sum(), std::numeric_limits<double>::min());
    double explained = 0;
    for (Index k = 0; k < d; ++k)
      if ((explained += descending[k]) / total >= fraction) return k + 1;
    return d;
  }
  return std::max<Index>(1, d / 2);
}

}  // namespace

std::vector<ParamSpec> Pca::param_specs() {
  return {
      ParamSpec::integer("n_components", 0, 0, 1 << 20,
                         "principal components kept; 0 = explained_variance, or half the "
                         "features when that is 0 too"),
      ParamSpec::real("explained_variance", 0.0, 0.0, 1.0,
                      "keep the fewest components explaining this fraction of the variance "
                      "(used when n_components = 0; 0 = off)"),
      ParamSpec::boolean("standardize", true,
                         "scale columns to unit variance (global mean and population standard "
                         "deviation, stored in the model) before the decomposition"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "unused: the fit is deterministic (kept for a uniform interface)"),
  };
}

void Pca::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features();
  if (source.global_rows() == 0) throw DataError("cannot fit pca: the input has no rows");
  const ColumnMoments moments = column_moments(source);
  mean_ = moments.mean;
  scale_ = params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  Eigen::MatrixXd covariance = moments.covariance;
  for (Index j = 0; j < d; ++j)
    for (Index k = 0; k < d; ++k) covariance(j, k) /= scale_[j] * scale_[k];
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  if (solver.info() != Eigen::Success)
    throw DataError("pca: the eigen-decomposition of the covariance matrix did not converge");
  // Eigen returns ascending eigenvalues; components are taken largest first.
  const Eigen::VectorXd descending = solver.eigenvalues().reverse();
  const Index k = component_count(params_, descending, d);
  components_.resize(static_cast<std::size_t>(k * d));
  for (Index c = 0; c < k; ++c)
    for (Index j = 0; j < d; ++j) components_[c * d + j] = solver.eigenvectors()(j, d - 1 - c);
  context.log.debug("pca: {} of {} components, {:.1f}% of the variance", k, d,
                    100 * descending.head(k).sum() / std::max(descending.sum(), 1e-300));
}

void Pca::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  const Index k = static_cast<Index>(components_.size()) / std::max<Index>(d, 1);
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> z(static_cast<std::size_t>(d)), projection(static_cast<std::size_t>(k));
  for (Index i = 0; i < block.n_rows; ++i) {
    const auto x = block.row(i);
    standardize_row(mean_, scale_, x, z.data());
    for (Index c = 0; c < k; ++c) {
      double dot = 0;
      for (Index j = 0; j < d; ++j) dot += components_[c * d + j] * z[j];
      projection[c] = dot;
    }
    double error = 0;
    for (Index j = 0; j < d; ++j) {
      double reconstructed = 0;
      for (Index c = 0; c < k; ++c) reconstructed += projection[c] * components_[c * d + j];
      error += (z[j] - reconstructed) * (z[j] - reconstructed);
    }
    out[i] = error;
  }
}

ModelState Pca::save_state() const {
  ModelState state;
  state.reals["mean"] = mean_;
  state.reals["scale"] = scale_;
  state.reals["components"] = components_;
  return state;
}

void Pca::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  const auto& mean = state.real("mean", d);
  const auto& scale = state.real("scale", d);
  const auto& components = state.real("components");
  if (components.empty() || components.size() % d != 0 || components.size() / d > d)
    throw DataError(fmt::format("{}: pca components hold {} values, not k x {} with 1 <= k <= {}",
                                state.where, components.size(), d, d));
  state.require_finite({"mean", "scale", "components"}, "pca");
  for (double s : scale)
    if (!(s > 0)) throw DataError(fmt::format("{}: pca scale must be positive", state.where));
  mean_ = mean;
  scale_ = scale;
  components_ = components;
}

}  // namespace hpcad
