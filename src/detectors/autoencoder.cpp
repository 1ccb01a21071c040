#include "hpcad/detectors/autoencoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

/// Adam (Kingma & Ba 2015) over a flat parameter vector.
class Adam {
 public:
  Adam(std::size_t n, double learning_rate)
      : learning_rate_(learning_rate), first_(n, 0.0), second_(n, 0.0) {}

  void step(std::span<double> parameters, std::span<const double> gradient) {
    constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
    ++t_;
    const double correction1 = 1 - std::pow(kBeta1, static_cast<double>(t_));
    const double correction2 = 1 - std::pow(kBeta2, static_cast<double>(t_));
    for (std::size_t k = 0; k < parameters.size(); ++k) {
      first_[k] = kBeta1 * first_[k] + (1 - kBeta1) * gradient[k];
      second_[k] = kBeta2 * second_[k] + (1 - kBeta2) * gradient[k] * gradient[k];
      parameters[k] -= learning_rate_ * (first_[k] / correction1) /
                       (std::sqrt(second_[k] / correction2) + kEpsilon);
    }
  }

 private:
  double learning_rate_;
  std::vector<double> first_, second_;
  std::int64_t t_ = 0;
};

/// (d, hidden..., d).
std::vector<Index> layer_sizes(const ParamSet& params, Index d) {
  std::vector<Index> sizes{d};
  for (const std::int64_t h : params.integers("hidden")) sizes.push_back(h);
  sizes.push_back(d);
  return sizes;
}

}  // namespace

std::vector<ParamSpec> Autoencoder::param_specs() {
  std::vector<ParamSpec> specs = {
      ParamSpec::integer_list("hidden", {8, 4, 8}, 1, 1 << 14,
                              "hidden layer widths, input side first (at least one layer)"),
      ParamSpec::string("activation", "relu", {"relu", "tanh"},
                        "activation of the hidden layers (the output layer is linear)"),
      ParamSpec::real("learning_rate", 1e-3, 1e-12, 1e3, "Adam step size"),
      ParamSpec::real("validation_fraction", 0.1, 0.0, 0.9,
                      "part of the training sample held out for early stopping (0 = none)"),
      ParamSpec::integer("patience", 10, 1, 1'000'000,
                         "stop after this many epochs without the validation loss improving "
                         "by more than tol (the best weights are kept)"),
      ParamSpec::real("tol", 1e-4, 0.0, 1e300, "improvement of the validation loss that counts"),
  };
  for (ParamSpec& spec : minibatch_param_specs(100, 200, 100'000)) specs.push_back(std::move(spec));
  return specs;
}

Index Autoencoder::weight_count() const {
  Index count = 0;
  for (std::size_t l = 0; l < weights_.size(); ++l) count += weights_[l].size() + biases_[l].size();
  return count;
}

std::vector<double> Autoencoder::flat_weights() const {
  std::vector<double> flat;
  flat.reserve(static_cast<std::size_t>(weight_count()));
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    flat.insert(flat.end(), weights_[l].data(), weights_[l].data() + weights_[l].size());
    flat.insert(flat.end(), biases_[l].data(), biases_[l].data() + biases_[l].size());
  }
  return flat;
}

void Autoencoder::set_flat_weights(std::span<const double> flat) {
  std::size_t at = 0;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    std::copy_n(flat.begin() + at, weights_[l].size(), weights_[l].data());
    at += static_cast<std::size_t>(weights_[l].size());
    std::copy_n(flat.begin() + at, biases_[l].size(), biases_[l].data());
    at += static_cast<std::size_t>(biases_[l].size());
  }
}

void Autoencoder::forward(const Eigen::VectorXd& z,
                          std::vector<Eigen::VectorXd>& activations) const {
  activations.resize(weights_.size() + 1);
  activations[0] = z;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    activations[l + 1].noalias() = weights_[l] * activations[l];
    activations[l + 1] += biases_[l];
    if (l + 1 == weights_.size()) break;  // linear output
    if (tanh_)
      activations[l + 1] = activations[l + 1].array().tanh();
    else
      activations[l + 1] = activations[l + 1].cwiseMax(0.0);
  }
}

double Autoencoder::row_loss(const double* z) const {
  const Index d = n_features();
  std::vector<Eigen::VectorXd> activations;
  const Eigen::VectorXd input = Eigen::Map<const Eigen::VectorXd>(z, d);
  forward(input, activations);
  return (activations.back() - input).squaredNorm() / static_cast<double>(d);
}

void Autoencoder::row_gradient(const double* z, std::span<double> out) const {
  const Index d = n_features();
  std::vector<Eigen::VectorXd> activations;
  const Eigen::VectorXd input = Eigen::Map<const Eigen::VectorXd>(z, d);
  forward(input, activations);
  Eigen::VectorXd delta = (activations.back() - input) * (2.0 / static_cast<double>(d));
  // Offsets of each layer's block in the flat layout, filled from the last layer back.
  std::size_t end = out.size();
  for (std::size_t l = weights_.size(); l-- > 0;) {
    const Eigen::Index rows = weights_[l].rows(), cols = weights_[l].cols();
    end -= static_cast<std::size_t>(rows);
    Eigen::Map<Eigen::VectorXd>(out.data() + end, rows) = delta;
    end -= static_cast<std::size_t>(rows * cols);
    Eigen::Map<Eigen::MatrixXd>(out.data() + end, rows, cols).noalias() =
        delta * activations[l].transpose();
    if (l == 0) break;
    Eigen::VectorXd back = weights_[l].transpose() * delta;
    const Eigen::VectorXd& a = activations[l];
    if (tanh_)
      delta = back.array() * (1.0 - a.array().square());
    else
      delta = back.array() * (a.array() > 0.0).cast<double>();
  }
}

void Autoencoder::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features(), n = source.global_rows();
  if (n == 0) throw DataError("cannot fit autoencoder: the input has no rows");
  if (params_.integers("hidden").empty())
    throw ConfigError("detector.hidden = []: the autoencoder needs at least one hidden layer");
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  tanh_ = params_.string("activation") == "tanh";
  scaling_ = ColumnScaling::fit(source, params_.boolean("standardize"));

  // Glorot-uniform weights (scikit-learn's MLP initialisation), zero biases; layer l from its
  // own stream.
  const std::vector<Index> sizes = layer_sizes(params_, d);
  weights_.clear();
  biases_.clear();
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    RandomStream init_rng(seed, "autoencoder.init", l);
    const double bound = std::sqrt(6.0 / static_cast<double>(sizes[l] + sizes[l + 1]));
    Eigen::MatrixXd w(sizes[l + 1], sizes[l]);
    for (Eigen::Index k = 0; k < w.size(); ++k) w.data()[k] = (2 * init_rng.uniform() - 1) * bound;
    weights_.push_back(std::move(w));
    biases_.push_back(Eigen::VectorXd::Zero(sizes[l + 1]));
  }

  // One sample by global row index; a random part of its positions is held out.
  RandomStream sample_rng(seed, "autoencoder.sample", 0);
  const Index s = std::min(n, params_.integer("max_samples"));
  const SampleShard shard(source, sample_without_replacement(n, s, sample_rng), d,
                          [&](std::span<const double> x, double* z) { scaling_.apply(x, z); });
  RandomStream holdout_rng(seed, "autoencoder.validation", 0);
  Index held_out = static_cast<Index>(static_cast<double>(s) * params_.real("validation_fraction"));
  if (held_out >= s) held_out = 0;  // too few rows to hold any out
  const std::vector<Index> validation = sample_without_replacement(s, held_out, holdout_rng);
  std::vector<Index> training;
  for (Index p = 0, v = 0; p < s; ++p)
    if (v < held_out && validation[v] == p)
      ++v;
    else
      training.push_back(p);

  Comm& comm = source.comm();
  const auto n_weights = static_cast<std::size_t>(weight_count());
  const auto n_train = static_cast<Index>(training.size());
  const Index batch_size = std::min(n_train, params_.integer("batch_size"));
  Adam adam(n_weights, params_.real("learning_rate"));
  std::vector<double> flat = flat_weights(), best = flat;
  double best_loss = std::numeric_limits<double>::infinity();
  Index epoch = 0, stalled = 0;
  for (; epoch < params_.integer("epochs") && stalled < params_.integer("patience"); ++epoch) {
    RandomStream order_rng(seed, "autoencoder.batches", static_cast<std::uint64_t>(epoch));
    std::vector<Index> order = shuffled_positions(n_train, order_rng);
    for (Index& position : order) position = training[position];
    for (Index begin = 0; begin < n_train; begin += batch_size) {
      const Index size = std::min(batch_size, n_train - begin);
      std::vector<double> gradient =
          sum_row_terms(comm, shard, std::span(order).subspan(begin, size), n_weights,
                        [&](const double* z, std::span<double> out) { row_gradient(z, out); });
      for (double& g : gradient) g /= static_cast<double>(size);
      adam.step(flat, gradient);
      set_flat_weights(flat);
    }
    if (held_out == 0) continue;
    const double loss =
        sum_row_terms(comm, shard, validation, 1,
                      [&](const double* z, std::span<double> out) { out[0] = row_loss(z); })[0] /
        static_cast<double>(held_out);
    if (!std::isfinite(loss))
      throw DataError(fmt::format(
          "autoencoder: the validation loss diverged at epoch {} (lower learning_rate)", epoch));
    if (loss < best_loss - params_.real("tol")) {
      best_loss = loss;
      best = flat;
      stalled = 0;
    } else {
      ++stalled;
    }
  }
  if (held_out > 0) set_flat_weights(best);
  context.log.debug("autoencoder: {} weights, {} epochs, validation loss {}", n_weights, epoch,
                    best_loss);
}

void Autoencoder::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> z(static_cast<std::size_t>(d));
  for (Index i = 0; i < block.n_rows; ++i) {
    scaling_.apply(block.row(i), z.data());
    out[i] = row_loss(z.data());
  }
}

ModelState Autoencoder::save_state() const {
  ModelState state;
  scaling_.save(state);
  const std::vector<Index> sizes = layer_sizes(params_, n_features());
  state.integers["layer_sizes"] = std::vector<std::int64_t>(sizes.begin(), sizes.end());
  state.reals["weights"] = flat_weights();
  return state;
}

void Autoencoder::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  ColumnScaling scaling = ColumnScaling::load(state, d, "autoencoder");
  const std::vector<Index> sizes = layer_sizes(params_, n_features);
  if (state.integer("layer_sizes") != std::vector<std::int64_t>(sizes.begin(), sizes.end()))
    throw DataError(
        fmt::format("{}: autoencoder layer_sizes are not (n_features, hidden..., "
                    "n_features) = ({})",
                    state.where, fmt::join(sizes, ", ")));
  std::size_t count = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l)
    count += static_cast<std::size_t>(sizes[l + 1] * (sizes[l] + 1));
  const std::vector<double>& flat = state.real("weights", count);
  state.require_finite({"weights"}, "autoencoder");
  scaling_ = std::move(scaling);
  tanh_ = params_.string("activation") == "tanh";
  weights_.clear();
  biases_.clear();
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    weights_.emplace_back(sizes[l + 1], sizes[l]);
    biases_.emplace_back(sizes[l + 1]);
  }
  set_flat_weights(flat);
}

}  // namespace hpcad
