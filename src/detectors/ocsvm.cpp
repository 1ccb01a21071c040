#include "hpcad/detectors/ocsvm.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

double dot(const double* a, const double* b, Index n) {
  double sum = 0;
  for (Index k = 0; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

/// scikit-learn's gamma = "scale": 1 / (d * var(Z)), var over every value of the scaled table
/// (1 when that variance is 0). One pass of exact sums of z and z^2.
double scale_gamma(RowSource& source, const ColumnScaling& scaling) {
  const Index d = source.n_features();
  Statistics moments(2, 0);
  std::vector<double> z(static_cast<std::size_t>(d));
  accumulate(source, moments, [&](const RowBlock& block, Statistics& s) {
    for (Index i = 0; i < block.n_rows; ++i) {
      scaling.apply(block.row(i), z.data());
      for (const double v : z) {
        s.sums[0].add(v);
        s.sums[1].add(v * v);
      }
    }
  });
  const double count = static_cast<double>(source.global_rows() * d);
  const double mean = moments.sums[0].value() / count;
  const double variance = moments.sums[1].value() / count - mean * mean;
  return variance > 0 ? 1.0 / (static_cast<double>(d) * variance) : 1.0;
}

}  // namespace

std::vector<ParamSpec> OneClassSvm::param_specs() {
  std::vector<ParamSpec> specs = {
      ParamSpec::real("nu", 0.1, 0.0, 1.0,
                      "upper bound on the fraction of training rows outside the boundary, in "
                      "(0, 1] (scikit-learn's nu)"),
      ParamSpec::real_or_choice("gamma", "scale", 0.0, 1e300, {"scale"},
                                "RBF kernel coefficient: a positive number, or \"scale\": 1 / "
                                "(n_features * variance of all scaled values), as "
                                "scikit-learn's gamma = \"scale\""),
      ParamSpec::integer("n_components", 100, 1, 1 << 14,
                         "Nystroem landmarks (random features), drawn by global row index; "
                         "capped at the rows"),
      ParamSpec::string("feature_map", "nystroem", {"nystroem"},
                        "kernel approximation: Nystroem on a global sample"),
      ParamSpec::string("learning_rate", "optimal", {"optimal", "constant"},
                        "step size: \"optimal\" eta0 / (1 + eta0 t) (1/t for the 1-strongly "
                        "convex objective, Bottou's schedule) or \"constant\" eta0"),
      ParamSpec::real("eta0", 0.5, 1e-12, 1e6, "initial (or constant) step size"),
  };
  for (ParamSpec& spec : minibatch_param_specs(30, 64, 100'000)) specs.push_back(std::move(spec));
  return specs;
}

void OneClassSvm::feature_map(const double* z, double* out, double* kernel) const {
  const Index d = n_features();
  const Index m = static_cast<Index>(coef_.size());
  for (Index c = 0; c < m; ++c) {
    const double* landmark = landmarks_.data() + c * d;
    double distance = 0;
    for (Index j = 0; j < d; ++j) distance += (z[j] - landmark[j]) * (z[j] - landmark[j]);
    kernel[c] = std::exp(-gamma_ * distance);
  }
  for (Index c = 0; c < m; ++c) out[c] = dot(normalization_.data() + c * m, kernel, m);
}

void OneClassSvm::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features(), n = source.global_rows();
  if (n == 0) throw DataError("cannot fit ocsvm: the input has no rows");
  if (!(params_.real("nu") > 0))
    throw ConfigError(fmt::format("detector.nu = {}: must be in (0, 1]", params_.real("nu")));
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  scaling_ = ColumnScaling::fit(source, params_.boolean("standardize"));
  const std::optional<double> gamma = params_.number("gamma");  // nullopt: "scale"
  gamma_ = gamma ? *gamma : scale_gamma(source, scaling_);

  // Nystroem (Williams & Seeger 2001, as scikit-learn): phi(z) = K_mm^(-1/2) k(landmarks, z),
  // eigenvalues below 1e-12 clipped as scikit-learn does.
  RandomStream landmark_rng(seed, "ocsvm.landmarks", 0);
  const Index m = std::min(n, params_.integer("n_components"));
  const std::vector<Index> landmark_rows = sample_without_replacement(n, m, landmark_rng);
  landmarks_ = gather_rows(source, landmark_rows);
  for (Index c = 0; c < m; ++c)
    scaling_.apply(std::span(landmarks_).subspan(c * d, d), landmarks_.data() + c * d);
  Eigen::MatrixXd kernel(m, m);
  for (Index a = 0; a < m; ++a)
    for (Index b = 0; b < m; ++b) {
      double distance = 0;
      for (Index j = 0; j < d; ++j) {
        const double diff = landmarks_[a * d + j] - landmarks_[b * d + j];
        distance += diff * diff;
      }
      kernel(a, b) = std::exp(-gamma_ * distance);
    }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(kernel);
  if (solver.info() != Eigen::Success)
    throw DataError("ocsvm: the eigen-decomposition of the landmark kernel did not converge");
  const Eigen::VectorXd inverse_root =
      solver.eigenvalues().cwiseMax(1e-12).cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd root =
      solver.eigenvectors() * inverse_root.asDiagonal() * solver.eigenvectors().transpose();
  normalization_.resize(static_cast<std::size_t>(m * m));
  for (Index a = 0; a < m; ++a)
    for (Index b = 0; b < m; ++b) normalization_[a * m + b] = root(a, b);
  coef_.assign(static_cast<std::size_t>(m), 0.0);

  RandomStream sample_rng(seed, "ocsvm.sample", 0);
  std::vector<Index> rows =
      sample_without_replacement(n, std::min(n, params_.integer("max_samples")), sample_rng);
  std::vector<double> z(static_cast<std::size_t>(d)), scratch(static_cast<std::size_t>(m));
  const SampleShard shard(source, std::move(rows), m, [&](std::span<const double> x, double* out) {
    scaling_.apply(x, z.data());
    feature_map(z.data(), out, scratch.data());
  });
  train(source.comm(), shard, seed);
  context.log.debug("ocsvm: {} Nystroem components, gamma {}, rho {}", m, gamma_, offset_);
}

void OneClassSvm::train(Comm& comm, const SampleShard& shard, std::uint64_t seed) {
  const Index m = shard.width(), n = shard.size();
  const Index batch_size = std::min(n, params_.integer("batch_size"));
  const Index epochs = params_.integer("epochs");
  const double nu = params_.real("nu"), eta0 = params_.real("eta0");
  const bool decaying = params_.string("learning_rate") == "optimal";
  const Index steps_per_epoch = (n + batch_size - 1) / batch_size;
  // Suffix averaging (Rakhlin et al. 2012): the mean iterate of the second half of the steps,
  // which converges at the 1/t rate the last iterate of a hinge-loss SGD does not reach.
  const Index average_from = epochs * steps_per_epoch / 2;
  std::vector<double> w(static_cast<std::size_t>(m), 0.0);
  double rho = 0;
  std::fill(coef_.begin(), coef_.end(), 0.0);
  offset_ = 0;
  Index step = 0, averaged = 0;
  for (Index epoch = 0; epoch < epochs; ++epoch) {
    RandomStream order_rng(seed, "ocsvm.batches", static_cast<std::uint64_t>(epoch));
    const std::vector<Index> order = shuffled_positions(n, order_rng);
    for (Index begin = 0; begin < n; begin += batch_size, ++step) {
      const Index size = std::min(batch_size, n - begin);
      // Per row: phi and 1 when the row violates the margin (the hinge subgradient), else 0.
      const std::vector<double> violations = sum_row_terms(
          comm, shard, std::span(order).subspan(begin, size), static_cast<std::size_t>(m + 1),
          [&](const double* phi, std::span<double> out) {
            const bool inside = dot(w.data(), phi, m) >= rho;
            for (Index k = 0; k < m; ++k) out[k] = inside ? 0.0 : phi[k];
            out[m] = inside ? 0.0 : 1.0;
          });
      const double eta = decaying ? eta0 / (1 + eta0 * static_cast<double>(step)) : eta0;
      const double weight = 1 / (nu * static_cast<double>(size));
      for (Index k = 0; k < m; ++k) w[k] -= eta * (w[k] - weight * violations[k]);
      rho -= eta * (weight * violations[m] - 1);
      if (step >= average_from) {
        ++averaged;
        const double share = 1 / static_cast<double>(averaged);
        for (Index k = 0; k < m; ++k) coef_[k] += (w[k] - coef_[k]) * share;
        offset_ += (rho - offset_) * share;
      }
    }
  }
}

void OneClassSvm::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  const Index m = static_cast<Index>(coef_.size());
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> z(static_cast<std::size_t>(d)), phi(static_cast<std::size_t>(m)),
      kernel(static_cast<std::size_t>(m));
  for (Index i = 0; i < block.n_rows; ++i) {
    scaling_.apply(block.row(i), z.data());
    feature_map(z.data(), phi.data(), kernel.data());
    out[i] = offset_ - dot(coef_.data(), phi.data(), m);
  }
}

ModelState OneClassSvm::save_state() const {
  ModelState state;
  scaling_.save(state);
  state.reals["gamma"] = {gamma_};
  state.reals["landmarks"] = landmarks_;
  state.reals["normalization"] = normalization_;
  state.reals["coef"] = coef_;
  state.reals["offset"] = {offset_};
  return state;
}

void OneClassSvm::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  ColumnScaling scaling = ColumnScaling::load(state, d, "ocsvm");
  const auto& coef = state.real("coef");
  const std::size_t m = coef.size();
  if (m == 0 || m > static_cast<std::size_t>(params_.integer("n_components")))
    throw DataError(fmt::format("{}: ocsvm coef holds {} values, not 1 to n_components = {}",
                                state.where, m, params_.integer("n_components")));
  state.real("landmarks", m * d);
  state.real("normalization", m * m);
  state.real("gamma", 1);
  state.real("offset", 1);
  state.require_finite({"gamma", "landmarks", "normalization", "coef", "offset"}, "ocsvm");
  if (!(state.real_value("gamma") > 0))
    throw DataError(fmt::format("{}: ocsvm gamma must be positive", state.where));
  scaling_ = std::move(scaling);
  gamma_ = state.real_value("gamma");
  landmarks_ = state.real("landmarks");
  normalization_ = state.real("normalization");
  coef_ = coef;
  offset_ = state.real_value("offset");
}

}  // namespace hpcad
