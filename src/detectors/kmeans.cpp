#include "hpcad/detectors/kmeans.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

/// Points with weights: what the initialisation clusters (a global sample with unit
/// weights, or k-means|| candidates weighted by the rows nearest to them). Identical on every
/// rank, so everything computed from it locally is too.
struct WeightedPoints {
  std::vector<double> values;  ///< m x d, row-major
  std::vector<double> weights;
  Index d = 0;
  Index size() const { return static_cast<Index>(weights.size()); }
  const double* row(Index i) const { return values.data() + i * d; }
};

namespace {

double squared_distance(const double* a, const double* b, Index d) {
  double sum = 0;
  for (Index j = 0; j < d; ++j) sum += (a[j] - b[j]) * (a[j] - b[j]);
  return sum;
}

/// Squared distance of `z` to the nearest of the k centres, and that centre.
std::pair<double, Index> nearest_centre(const double* z, const std::vector<double>& centres,
                                        Index d) {
  const Index k = static_cast<Index>(centres.size()) / d;
  double best = std::numeric_limits<double>::infinity();
  Index at = 0;
  for (Index c = 0; c < k; ++c)
    if (const double dist = squared_distance(z, centres.data() + c * d, d); dist < best) {
      best = dist;
      at = c;
    }
  return {best, at};
}

/// An index drawn with probability proportional to `mass` (uniform when it is all zero).
Index draw_proportional(const std::vector<double>& mass, double total, RandomStream& rng) {
  const Index m = static_cast<Index>(mass.size());
  if (!(total > 0)) return static_cast<Index>(rng.below(static_cast<std::uint64_t>(m)));
  double target = rng.uniform() * total;
  for (Index i = 0; i < m; ++i)
    if ((target -= mass[i]) < 0) return i;
  return m - 1;
}

/// Greedy k-means++ (Arthur & Vassilvitskii 2007, as scikit-learn's _kmeans_plusplus with
/// sample weights) on weighted points: the first centre drawn proportionally to the weight;
/// then, per centre, 2 + ln(k) candidates drawn proportionally to weight x squared distance
/// to the nearest chosen centre, and the candidate that lowers the weighted total most is kept.
std::vector<double> kmeans_plus_plus(const WeightedPoints& points, Index k, RandomStream& rng) {
  const Index m = points.size(), d = points.d;
  const Index trials = 2 + static_cast<Index>(std::log(static_cast<double>(k)));
  double weight_total = 0;
  for (const double w : points.weights) weight_total += w;
  const Index first = draw_proportional(points.weights, weight_total, rng);
  std::vector<double> centres(points.row(first), points.row(first) + d);
  std::vector<double> nearest(static_cast<std::size_t>(m)), candidate(nearest.size()),
      best(nearest.size());
  for (Index i = 0; i < m; ++i)
    nearest[i] = points.weights[i] * squared_distance(points.row(i), points.row(first), d);
  for (Index c = 1; c < k; ++c) {
    double total = 0;
    for (const double v : nearest) total += v;
    double best_total = std::numeric_limits<double>::infinity();
    Index best_pick = 0;
    for (Index t = 0; t < trials; ++t) {
      const Index pick = draw_proportional(nearest, total, rng);
      double candidate_total = 0;
      for (Index i = 0; i < m; ++i) {
        candidate[i] = std::min(
            nearest[i], points.weights[i] * squared_distance(points.row(i), points.row(pick), d));
        candidate_total += candidate[i];
      }
      if (candidate_total < best_total) {
        best_total = candidate_total;
        best_pick = pick;
        best.swap(candidate);
      }
    }
    nearest.swap(best);
    centres.insert(centres.end(), points.row(best_pick), points.row(best_pick) + d);
  }
  return centres;
}

/// Replaces every centre whose cluster is empty (count 0) with the point farthest from its
/// nearest centre: deterministic, so the same on every rank.
void reseed_empty(std::vector<double>& centres, const std::vector<double>& counts,
                  const WeightedPoints& points) {
  const Index d = points.d;
  for (std::size_t c = 0; c < counts.size(); ++c)
    if (counts[c] == 0) {
      Index far = 0;
      double worst = -1;
      for (Index i = 0; i < points.size(); ++i)
        if (const double dist = nearest_centre(points.row(i), centres, d).first; dist > worst) {
          worst = dist;
          far = i;
        }
      std::copy_n(points.row(far), d, centres.begin() + static_cast<Index>(c) * d);
    }
}

/// Local. Weighted Lloyd iterations on `points` from `centres` until the centres move less
/// than `tolerance` or after max_iter; returns the weighted inertia of the result.
double local_lloyd(const WeightedPoints& points, std::vector<double>& centres, Index max_iter,
                   double tolerance) {
  const Index d = points.d, k = static_cast<Index>(centres.size()) / d;
  for (Index iteration = 0; iteration < max_iter; ++iteration) {
    std::vector<double> sums(centres.size(), 0.0), counts(static_cast<std::size_t>(k), 0.0);
    for (Index i = 0; i < points.size(); ++i) {
      const Index c = nearest_centre(points.row(i), centres, d).second;
      for (Index j = 0; j < d; ++j) sums[c * d + j] += points.weights[i] * points.row(i)[j];
      counts[c] += points.weights[i];
    }
    const std::vector<double> previous = centres;
    for (Index c = 0; c < k; ++c)
      if (counts[c] > 0)
        for (Index j = 0; j < d; ++j) centres[c * d + j] = sums[c * d + j] / counts[c];
    reseed_empty(centres, counts, points);
    double shift = 0;
    for (std::size_t v = 0; v < centres.size(); ++v)
      shift += (centres[v] - previous[v]) * (centres[v] - previous[v]);
    if (shift <= tolerance) break;
  }
  double inertia = 0;
  for (Index i = 0; i < points.size(); ++i)
    inertia += points.weights[i] * nearest_centre(points.row(i), centres, d).first;
  return inertia;
}

}  // namespace

std::vector<ParamSpec> KMeans::param_specs() {
  return {
      ParamSpec::integer("n_clusters", 8, 1, 1 << 16, "number of clusters"),
      ParamSpec::integer("max_iter", 300, 1, 1'000'000, "Lloyd iterations at most"),
      ParamSpec::real("tol", 1e-4, 0.0, 1.0,
                      "stop when the centres move less than tol x the mean column variance "
                      "(squared, summed over centres), as scikit-learn"),
      ParamSpec::string("init", "k-means++", {"k-means++", "k-means||"},
                        "initial centres: \"k-means++\" on a global sample of "
                        "init_sample_size rows, or \"k-means||\" (Bahmani et al. 2012) on "
                        "candidates oversampled from all rows"),
      ParamSpec::integer("n_init", 10, 1, 1000,
                         "seedings of the initial points (sample or k-means|| candidates), each "
                         "refined by Lloyd on them; the lowest inertia starts the full Lloyd"),
      ParamSpec::integer("init_sample_size", 100'000, 1, 100'000'000,
                         "k-means++: rows drawn by global index for the initialisation"),
      ParamSpec::integer("init_rounds", 5, 1, 1000, "k-means||: oversampling rounds"),
      ParamSpec::real("oversampling", 2.0, 1e-3, 1e6,
                      "k-means||: expected candidates per round, in multiples of n_clusters"),
      ParamSpec::boolean("relative", false,
                         "divide the distance by the mean distance of the centre's cluster"),
      ParamSpec::boolean("standardize", true,
                         "scale columns to zero mean and unit variance first (global, stored)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed; the same seed gives the same model for any rank count"),
  };
}

void KMeans::standardize(std::span<const double> x, double* z) const {
  standardize_row(mean_, scale_, x, z);
}

std::pair<double, Index> KMeans::nearest(const double* z) const {
  return nearest_centre(z, centres_, n_features());
}

WeightedPoints KMeans::sampled_points(RowSource& source, std::uint64_t seed) const {
  const Index d = n_features(), n = source.global_rows();
  RandomStream sample_rng(seed, "kmeans.sample", 0);
  const std::vector<Index> rows =
      sample_without_replacement(n, std::min(n, params_.integer("init_sample_size")), sample_rng);
  WeightedPoints points{gather_rows(source, rows), std::vector<double>(rows.size(), 1.0), d};
  for (Index i = 0; i < points.size(); ++i)
    standardize(std::span(points.values).subspan(i * d, d), points.values.data() + i * d);
  return points;
}

WeightedPoints KMeans::parallel_candidates(RowSource& source, std::uint64_t seed) const {
  const Index d = n_features(), n = source.global_rows();
  const double expected_picks =
      params_.real("oversampling") * static_cast<double>(params_.integer("n_clusters"));
  RandomStream first_rng(seed, "kmeans.parallel.first", 0);
  const Index first = static_cast<Index>(first_rng.below(static_cast<std::uint64_t>(n)));
  WeightedPoints points{gather_rows(source, std::vector<Index>{first}), {}, d};
  standardize(points.values, points.values.data());
  std::vector<double> z(static_cast<std::size_t>(d));
  for (Index round = 0; round < params_.integer("init_rounds"); ++round) {
    Statistics cost(1, 0);
    accumulate(source, cost, [&](const RowBlock& block, Statistics& s) {
      for (Index i = 0; i < block.n_rows; ++i) {
        standardize(block.row(i), z.data());
        s.sums[0].add(nearest_centre(z.data(), points.values, d).first);
      }
    });
    const double phi = cost.sums[0].value();
    if (!(phi > 0)) break;  // every row coincides with a candidate
    // Row g joins with probability min(1, l d^2 / phi), decided by its own stream (seed,
    // "kmeans.parallel.<round>", g): the candidates do not depend on the rank count.
    const std::string stream = fmt::format("kmeans.parallel.{}", round);
    std::vector<Index> picked;
    std::vector<double> picked_values;
    source.rewind();
    RowBlock block;
    while (source.next(block))
      for (Index i = 0; i < block.n_rows; ++i) {
        standardize(block.row(i), z.data());
        const double dist = nearest_centre(z.data(), points.values, d).first;
        const Index g = block.global_begin + i;
        RandomStream rng(seed, stream, static_cast<std::uint64_t>(g));
        if (rng.uniform() * phi < expected_picks * dist) {
          picked.push_back(g);
          picked_values.insert(picked_values.end(), z.begin(), z.end());
        }
      }
    // Ranks hold ascending contiguous slabs, so rank order is global row order.
    const std::vector<double> joined = source.comm().allgatherv<double>(picked_values);
    points.values.insert(points.values.end(), joined.begin(), joined.end());
  }
  // Weight of a candidate: the number of rows nearest to it (Bahmani et al., step 7).
  const Index m = static_cast<Index>(points.values.size()) / d;
  Statistics nearest_counts(0, static_cast<std::size_t>(m));
  accumulate(source, nearest_counts, [&](const RowBlock& block, Statistics& s) {
    for (Index i = 0; i < block.n_rows; ++i) {
      standardize(block.row(i), z.data());
      ++s.counts[nearest_centre(z.data(), points.values, d).second];
    }
  });
  points.weights.assign(nearest_counts.counts.begin(), nearest_counts.counts.end());
  return points;
}

void KMeans::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features(), n = source.global_rows();
  const Index k = params_.integer("n_clusters");
  if (n < k)
    throw ConfigError(fmt::format("detector.n_clusters = {}: the input has only {} rows", k, n));
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  const Index max_iter = params_.integer("max_iter");
  const ColumnMoments moments = column_moments(source, CoMoments::kVariances);
  mean_ = moments.mean;
  scale_ = params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  double mean_variance = 0;
  for (Index j = 0; j < d; ++j) mean_variance += moments.covariance(j, j) / (scale_[j] * scale_[j]);
  const double tolerance = params_.real("tol") * mean_variance / static_cast<double>(d);

  // n_init seedings of the (identical on every rank) initial points, each refined by Lloyd
  // on those points; the lowest weighted inertia wins, as scikit-learn's n_init.
  const WeightedPoints points = params_.string("init") == "k-means||"
                                    ? parallel_candidates(source, seed)
                                    : sampled_points(source, seed);
  // The seedings are shared out among the ranks (each one's result depends on t only); the
  // lowest inertia wins, the lowest t among equals: the same model for any rank count.
  Comm& comm = context.comm;
  const IndexRange mine = partition_rows(params_.integer("n_init"), comm.size(), comm.rank());
  double best_inertia = std::numeric_limits<double>::infinity();
  Index best_t = std::numeric_limits<Index>::max();
  for (Index t = mine.begin; t < mine.end; ++t) {
    RandomStream init_rng(seed, "kmeans.init", static_cast<std::uint64_t>(t));
    std::vector<double> centres = kmeans_plus_plus(points, k, init_rng);
    if (const double inertia = local_lloyd(points, centres, max_iter, tolerance);
        inertia < best_inertia || t == mine.begin) {
      best_inertia = inertia;
      best_t = t;
      centres_ = std::move(centres);
    }
  }
  const std::vector<double> inertias = comm.allgather(best_inertia);
  const std::vector<Index> seedings = comm.allgather(best_t);
  int winner = 0;
  for (int r = 1; r < comm.size(); ++r)
    if (inertias[r] < inertias[winner] ||
        (inertias[r] == inertias[winner] && seedings[r] < seedings[winner]))
      winner = r;
  centres_ = comm.broadcast_values<double>(centres_, winner);

  std::vector<double> z(static_cast<std::size_t>(d));
  Index iteration = 0;
  for (double shift = tolerance + 1; iteration < max_iter && shift > tolerance; ++iteration) {
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
    reseed_empty(centres_, std::vector<double>(stats.counts.begin(), stats.counts.end()), points);
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
