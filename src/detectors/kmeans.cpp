#include "hpcad/detectors/kmeans.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {
namespace {

double squared_distance(const double* a, const double* b, Index d) {
  double sum = 0;
  for (Index j = 0; j < d; ++j) sum += (a[j] - b[j]) * (a[j] - b[j]);
  return sum;
}

/// Greedy k-means++ (Arthur & Vassilvitskii 2007, as scikit-learn's _kmeans_plusplus) on
/// `sample` (m x d): the first centre uniformly; then, per centre, 2 + ln(k) candidates drawn
/// with probability proportional to the squared distance to the nearest chosen centre, and
/// the candidate that lowers the total squared distance most is kept.
std::vector<double> kmeans_plus_plus(const std::vector<double>& sample, Index d, Index k,
                                     RandomStream& rng) {
  const Index m = static_cast<Index>(sample.size()) / d;
  const Index trials = 2 + static_cast<Index>(std::log(static_cast<double>(k)));
  auto row = [&](Index i) { return sample.data() + i * d; };
  const Index first = static_cast<Index>(rng.below(static_cast<std::uint64_t>(m)));
  std::vector<double> centres(row(first), row(first) + d);
  std::vector<double> nearest(static_cast<std::size_t>(m)), candidate(nearest.size()),
      best(nearest.size());
  for (Index i = 0; i < m; ++i) nearest[i] = squared_distance(row(i), row(first), d);
  for (Index c = 1; c < k; ++c) {
    double total = 0;
    for (const double v : nearest) total += v;
    double best_total = std::numeric_limits<double>::infinity();
    Index best_pick = 0;
    for (Index t = 0; t < trials; ++t) {
      // A draw proportional to the squared distance (uniform when every point is a centre).
      Index pick = static_cast<Index>(rng.below(static_cast<std::uint64_t>(m)));
      if (total > 0) {
        double target = rng.uniform() * total;
        pick = m - 1;
        for (Index i = 0; i < m; ++i)
          if ((target -= nearest[i]) < 0) {
            pick = i;
            break;
          }
      }
      double candidate_total = 0;
      for (Index i = 0; i < m; ++i) {
        candidate[i] = std::min(nearest[i], squared_distance(row(i), row(pick), d));
        candidate_total += candidate[i];
      }
      if (candidate_total < best_total) {
        best_total = candidate_total;
        best_pick = pick;
        best.swap(candidate);
      }
    }
    nearest.swap(best);
    centres.insert(centres.end(), row(best_pick), row(best_pick) + d);
  }
  return centres;
}

}  // namespace

std::vector<ParamSpec> KMeans::param_specs() {
  return {
      ParamSpec::integer("n_clusters", 8, 1, 1 << 16, "number of clusters"),
      ParamSpec::integer("max_iter", 300, 1, 1'000'000, "Lloyd iterations at most"),
      ParamSpec::real("tol", 1e-4, 0.0, 1.0,
                      "stop when the centres move less than tol x the mean column variance "
                      "(squared, summed over centres), as scikit-learn"),
      ParamSpec::string("init", "k-means++", {"k-means++"},
                        "initial centres: k-means++ on a global sample of init_sample_size rows"),
      ParamSpec::integer("init_sample_size", 100'000, 1, 100'000'000,
                         "rows drawn by global index for the initialisation"),
      ParamSpec::boolean("relative", false,
                         "divide the distance by the mean distance of the centre's cluster"),
      ParamSpec::boolean("standardize", true,
                         "scale columns to zero mean and unit variance first (global, stored)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed; the same seed gives the same model for any rank count"),
  };
}

void KMeans::standardize(std::span<const double> x, double* z) const {
  for (std::size_t j = 0; j < mean_.size(); ++j) z[j] = (x[j] - mean_[j]) / scale_[j];
}

std::pair<double, Index> KMeans::nearest(const double* z) const {
  const Index d = n_features();
  const Index k = static_cast<Index>(centres_.size()) / d;
  double best = std::numeric_limits<double>::infinity();
  Index at = 0;
  for (Index c = 0; c < k; ++c)
    if (const double dist = squared_distance(z, centres_.data() + c * d, d); dist < best) {
      best = dist;
      at = c;
    }
  return {best, at};
}

void KMeans::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features(), n = source.global_rows();
  const Index k = params_.integer("n_clusters");
  if (n < k)
    throw ConfigError(fmt::format("detector.n_clusters = {}: the input has only {} rows", k, n));
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  const ColumnMoments moments = column_moments(source);
  mean_ = moments.mean;
  scale_ = params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  double mean_variance = 0;
  for (Index j = 0; j < d; ++j) mean_variance += moments.covariance(j, j) / (scale_[j] * scale_[j]);
  const double tolerance = params_.real("tol") * mean_variance / static_cast<double>(d);

  RandomStream sample_rng(seed, "kmeans.sample", 0);
  const std::vector<Index> rows =
      sample_without_replacement(n, std::min(n, params_.integer("init_sample_size")), sample_rng);
  std::vector<double> sample = gather_rows(source, rows);
  for (std::size_t i = 0; i < rows.size(); ++i)
    standardize(std::span(sample).subspan(i * d, d), sample.data() + i * d);
  RandomStream init_rng(seed, "kmeans.init", 0);
  centres_ = kmeans_plus_plus(sample, d, k, init_rng);

  std::vector<double> z(static_cast<std::size_t>(d));
  Index iteration = 0;
  for (double shift = tolerance + 1; iteration < params_.integer("max_iter") && shift > tolerance;
       ++iteration) {
    Statistics stats(static_cast<std::size_t>(k * d), static_cast<std::size_t>(k));
    accumulate(source, stats, [&](const RowBlock& block, Statistics& s) {
      for (Index i = 0; i < block.n_rows; ++i) {
        standardize(block.row(i), z.data());
        const Index c = nearest(z.data()).second;
        for (Index j = 0; j < d; ++j) s.sums[c * d + j].add(z[j]);
        ++s.counts[c];
      }
    });
    std::vector<double> previous = centres_;
    for (Index c = 0; c < k; ++c) {
      if (stats.counts[c] == 0) continue;  // re-seeded below
      for (Index j = 0; j < d; ++j)
        centres_[c * d + j] = stats.sums[c * d + j].value() / static_cast<double>(stats.counts[c]);
    }
    for (Index c = 0; c < k; ++c)
      if (stats.counts[c] == 0) {
        // The sample row farthest from its nearest centre: the same choice on every rank.
        Index far = 0;
        double worst = -1;
        for (std::size_t i = 0; i < rows.size(); ++i)
          if (const double dist = nearest(sample.data() + i * d).first; dist > worst) {
            worst = dist;
            far = static_cast<Index>(i);
          }
        std::copy_n(sample.begin() + far * d, d, centres_.begin() + c * d);
      }
    shift = 0;
    for (std::size_t v = 0; v < centres_.size(); ++v)
      shift += (centres_[v] - previous[v]) * (centres_[v] - previous[v]);
  }
  cluster_scale_.assign(static_cast<std::size_t>(k), 1.0);
  if (params_.boolean("relative")) {
    Statistics stats(static_cast<std::size_t>(k), static_cast<std::size_t>(k));
    accumulate(source, stats, [&](const RowBlock& block, Statistics& s) {
      for (Index i = 0; i < block.n_rows; ++i) {
        standardize(block.row(i), z.data());
        const auto [dist, c] = nearest(z.data());
        s.sums[c].add(std::sqrt(dist));
        ++s.counts[c];
      }
    });
    for (Index c = 0; c < k; ++c) {
      const double mean_distance =
          stats.counts[c] ? stats.sums[c].value() / static_cast<double>(stats.counts[c]) : 0;
      cluster_scale_[c] = mean_distance > 0 ? mean_distance : 1.0;
    }
  }
  context.log.debug("kmeans: {} clusters after {} iterations", k, iteration);
}

void KMeans::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> z(static_cast<std::size_t>(d));
  for (Index i = 0; i < block.n_rows; ++i) {
    standardize(block.row(i), z.data());
    const auto [dist, c] = nearest(z.data());
    out[i] = std::sqrt(dist) / cluster_scale_[c];
  }
}

ModelState KMeans::save_state() const {
  ModelState state;
  state.reals["mean"] = mean_;
  state.reals["scale"] = scale_;
  state.reals["centres"] = centres_;
  state.reals["cluster_scale"] = cluster_scale_;
  return state;
}

void KMeans::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  const auto k = static_cast<std::size_t>(params_.integer("n_clusters"));
  const auto& mean = state.real("mean", d);
  const auto& scale = state.real("scale", d);
  const auto& centres = state.real("centres", k * d);
  const auto& cluster_scale = state.real("cluster_scale", k);
  state.require_finite({"mean", "scale", "centres", "cluster_scale"}, "kmeans");
  for (const auto* values : {&scale, &cluster_scale})
    for (double v : *values)
      if (!(v > 0)) throw DataError(fmt::format("{}: kmeans scales must be positive", state.where));
  mean_ = mean;
  scale_ = scale;
  centres_ = centres;
  cluster_scale_ = cluster_scale;
}

}  // namespace hpcad
