#include "hpcad/detectors/neighbors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {
namespace {

using Neighbor = NeighborDetector::Neighbor;

/// scikit-learn's guard against a zero mean reachability distance (duplicated rows).
constexpr double kReachabilityEpsilon = 1e-10;

/// An empty k-best list: every slot worse than any real candidate.
void clear(std::span<Neighbor> nearest) {
  std::fill(nearest.begin(), nearest.end(),
            Neighbor{std::numeric_limits<double>::infinity(), std::numeric_limits<Index>::max()});
}

/// The squared Euclidean distance, summed directly from the differences (no |x|^2 + |y|^2 -
/// 2xy cancellation), in four interleaved partial sums: a fixed order, so the same pair gives
/// the same bits on every rank, and four independent additions per step instead of one chain.
double squared_distance(const double* a, const double* b, Index d) {
  double part[4] = {0, 0, 0, 0};
  Index j = 0;
  for (; j + 4 <= d; j += 4)
    for (int lane = 0; lane < 4; ++lane)
      part[lane] += (a[j + lane] - b[j + lane]) * (a[j + lane] - b[j + lane]);
  for (; j < d; ++j) part[0] += (a[j] - b[j]) * (a[j] - b[j]);
  return (part[0] + part[1]) + (part[2] + part[3]);
}

/// Offers each of `rows` (values row-major, global indices `ids`) to the sorted k-best list
/// of the row `query` (global index `query_row`). The query itself is skipped: a reference row
/// with its global index and bitwise its values, so rows of another input that merely share
/// an index still count.
void search(const double* query, Index query_row, std::span<const double> rows,
            std::span<const Index> ids, Index d, std::span<Neighbor> nearest) {
  const auto bytes = static_cast<std::size_t>(d) * sizeof(double);
  for (std::size_t r = 0; r < ids.size(); ++r) {
    const double* row = rows.data() + r * static_cast<std::size_t>(d);
    const Neighbor candidate{squared_distance(query, row, d), ids[r]};
    if (!(candidate < nearest.back())) continue;
    if (ids[r] == query_row && std::memcmp(query, row, bytes) == 0) continue;
    std::size_t at = nearest.size() - 1;
    for (; at > 0 && candidate < nearest[at - 1]; --at) nearest[at] = nearest[at - 1];
    nearest[at] = candidate;
  }
}

/// Collective. Passes every rank's `own` values around the ring of ranks: `visit(origin,
/// values)` sees each rank's values once, its own first. Holds two ranks' values at a time.
void ring(Comm& comm, const std::vector<double>& own,
          const std::function<void(int origin, std::span<const double> values)>& visit) {
  const int ranks = comm.size(), rank = comm.rank();
  std::vector<double> visiting = own;
  for (int step = 0; step < ranks; ++step) {
    visit((rank - step + ranks) % ranks, visiting);
    if (step + 1 < ranks)
      visiting = bytes_to_values<double>(comm.sendrecv(
          std::as_bytes(std::span(visiting)), (rank + 1) % ranks, (rank - 1 + ranks) % ranks));
  }
}

/// Collective. For each neighbour in `nearest` (any rank's row), its entry of the per-row
/// `values` its owner holds (rank r owns global rows `owned[r]`), by one more ring pass.
std::vector<double> neighbor_values(Comm& comm, const std::vector<IndexRange>& owned,
                                    const std::vector<double>& values,
                                    std::span<const Neighbor> nearest) {
  std::vector<double> result(nearest.size());
  ring(comm, values, [&](int origin, std::span<const double> visiting) {
    const IndexRange range = owned[static_cast<std::size_t>(origin)];
    for (std::size_t i = 0; i < nearest.size(); ++i)
      if (nearest[i].row >= range.begin && nearest[i].row < range.end)
        result[i] = visiting[static_cast<std::size_t>(nearest[i].row - range.begin)];
  });
  return result;
}

/// Local reachability density, as scikit-learn: 1 / (mean over the k nearest o of
/// max(k-distance(o), d(x, o)) + 1e-10).
double reachability_density(std::span<const Neighbor> nearest,
                            std::span<const double> neighbor_k_distance) {
  double sum = 0;
  for (std::size_t i = 0; i < nearest.size(); ++i)
    sum += std::max(neighbor_k_distance[i], std::sqrt(nearest[i].squared));
  return 1 / (sum / static_cast<double>(nearest.size()) + kReachabilityEpsilon);
}

double k_distance(std::span<const Neighbor> nearest) { return std::sqrt(nearest.back().squared); }

std::vector<ParamSpec> neighbor_specs(std::int64_t default_neighbors) {
  return {
      ParamSpec::integer("n_neighbors", default_neighbors, 1, 100'000, "neighbours k"),
      ParamSpec::string("mode", "sample", {"sample", "exact"},
                        "sample: neighbours among sample_size reference rows stored in the model "
                        "(scales, scores new data); exact: among all rows of the scored input, "
                        "by a ring of ranks (O(n^2/P))"),
      ParamSpec::integer("sample_size", 10'000, 2, 100'000'000,
                         "mode sample: reference rows drawn by global index (all if fewer)"),
      ParamSpec::boolean("standardize", true,
                         "scale columns to zero mean and unit variance first (global, stored)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed of the reference sample"),
  };
}

}  // namespace

std::vector<ParamSpec> Knn::param_specs() {
  std::vector<ParamSpec> specs = neighbor_specs(5);
  specs.push_back(ParamSpec::string("method", "largest", {"largest", "mean"},
                                    "score: distance to the k-th neighbour, or the mean of the "
                                    "k distances (PyOD's KNN method)"));
  return specs;
}

std::vector<ParamSpec> Lof::param_specs() { return neighbor_specs(20); }

void NeighborDetector::standardize(std::span<const double> x, double* z) const {
  standardize_row(mean_, scale_, x, z);
}

void NeighborDetector::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features(), n = source.global_rows();
  const Index m = exact() ? n : std::min(n, params_.integer("sample_size"));
  if (k() >= m)
    throw ConfigError(fmt::format(
        "detector.n_neighbors = {}: must be less than the {} rows neighbours are searched among "
        "({})",
        k(), m,
        exact() || m == n ? fmt::format("the input has {} rows", n)
                          : fmt::format("detector.sample_size = {}", m)));
  const ColumnMoments moments = column_moments(source);
  mean_ = moments.mean;
  scale_ = params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  reference_.clear();
  reference_rows_.clear();
  k_distance_.clear();
  reachability_.clear();
  if (exact()) return;
  RandomStream rng(static_cast<std::uint64_t>(params_.integer("seed")), type() + ".sample", 0);
  reference_rows_ = sample_without_replacement(n, m, rng);
  reference_ = gather_rows(source, reference_rows_);
  for (Index i = 0; i < m; ++i)
    standardize(std::span(reference_).subspan(i * d, d), reference_.data() + i * d);
  if (kind_ == Kind::kLof) fit_reference_density(context.comm);
  context.log.debug("{}: {} reference rows", type(), m);
}

void NeighborDetector::fit_reference_density(Comm& comm) {
  const Index d = n_features(), m = static_cast<Index>(reference_rows_.size());
  const IndexRange mine = partition_rows(m, comm.size(), comm.rank());
  std::vector<Neighbor> nearest(static_cast<std::size_t>(mine.size() * k()));
  std::vector<double> k_distance;
  for (Index i = mine.begin; i < mine.end; ++i) {
    const auto list = std::span(nearest).subspan((i - mine.begin) * k(), k());
    clear(list);
    search(reference_.data() + i * d, reference_rows_[i], reference_, reference_rows_, d, list);
    k_distance.push_back(hpcad::k_distance(list));
  }
  k_distance_ = comm.allgatherv(std::span<const double>(k_distance));
  std::vector<double> reachability, neighbor_k_distance(static_cast<std::size_t>(k()));
  for (Index i = mine.begin; i < mine.end; ++i) {
    const auto list = std::span<const Neighbor>(nearest).subspan((i - mine.begin) * k(), k());
    for (Index j = 0; j < k(); ++j)
      neighbor_k_distance[j] = k_distance_[std::lower_bound(reference_rows_.begin(),
                                                            reference_rows_.end(), list[j].row) -
                                           reference_rows_.begin()];
    reachability.push_back(reachability_density(list, neighbor_k_distance));
  }
  reachability_ = comm.allgatherv(std::span<const double>(reachability));
}

double NeighborDetector::finish(std::span<const Neighbor> nearest,
                                std::span<const double> neighbor_k_distance,
                                std::span<const double> neighbor_lrd) const {
  switch (kind_) {
    case Kind::kLargest:
      return k_distance(nearest);
    case Kind::kMean: {
      double sum = 0;
      for (const Neighbor& neighbor : nearest) sum += std::sqrt(neighbor.squared);
      return sum / static_cast<double>(nearest.size());
    }
    case Kind::kLof: {
      // The mean of the ratios lrd(o) / lrd(x), as scikit-learn.
      const double lrd = reachability_density(nearest, neighbor_k_distance);
      double sum = 0;
      for (const double neighbor : neighbor_lrd) sum += neighbor / lrd;
      return sum / static_cast<double>(nearest.size());
    }
  }
  return 0;
}

bool NeighborDetector::scores_collectively() const { return exact(); }

void NeighborDetector::score(const RowBlock& block, std::span<double> out) const {
  if (exact())
    throw ConfigError(fmt::format(
        "detector.mode = \"exact\": {} scores the whole input collectively, not block by block",
        type()));
  const Index d = n_features();
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  std::vector<double> z(static_cast<std::size_t>(d));
  std::vector<Neighbor> nearest(static_cast<std::size_t>(k()));
  std::vector<double> neighbor_k_distance(nearest.size()), neighbor_lrd(nearest.size());
  for (Index i = 0; i < block.n_rows; ++i) {
    standardize(block.row(i), z.data());
    clear(nearest);
    search(z.data(), block.global_begin + i, reference_, reference_rows_, d, nearest);
    if (kind_ == Kind::kLof)
      for (Index j = 0; j < k(); ++j) {
        const auto at =
            std::lower_bound(reference_rows_.begin(), reference_rows_.end(), nearest[j].row) -
            reference_rows_.begin();
        neighbor_k_distance[j] = k_distance_[at];
        neighbor_lrd[j] = reachability_[at];
      }
    out[i] = finish(nearest, neighbor_k_distance, neighbor_lrd);
  }
}

void NeighborDetector::score_collective(Comm& comm, RowSource& rows, std::span<double> out) const {
  if (!exact()) return Detector::score_collective(comm, rows, out);
  const Index d = n_features(), n = rows.global_rows();
  if (k() >= n)
    throw ConfigError(fmt::format(
        "detector.n_neighbors = {}: must be less than the {} rows of the input", k(), n));
  RowSlab slab = read_all(rows);
  const Index local = slab.n_rows();
  for (Index i = 0; i < local; ++i) standardize(slab.row(i), slab.values.data() + i * d);
  std::vector<IndexRange> owned =
      comm.allgather(IndexRange{slab.global_begin, slab.global_begin + local});
  std::vector<Neighbor> nearest(static_cast<std::size_t>(local * k()));
  clear(nearest);
  std::vector<Index> ids;
  ring(comm, slab.values, [&](int origin, std::span<const double> visiting) {
    const IndexRange range = owned[static_cast<std::size_t>(origin)];
    ids.resize(static_cast<std::size_t>(range.size()));
    std::iota(ids.begin(), ids.end(), range.begin);
    for (Index i = 0; i < local; ++i)
      search(slab.values.data() + i * d, slab.global_begin + i, visiting, ids, d,
             std::span(nearest).subspan(i * k(), k()));
  });
  auto list = [&](Index i) { return std::span<const Neighbor>(nearest).subspan(i * k(), k()); };
  if (kind_ != Kind::kLof) {
    for (Index i = 0; i < local; ++i) out[i] = finish(list(i), {}, {});
    return;
  }
  std::vector<double> k_distance(static_cast<std::size_t>(local)), lrd(k_distance.size());
  for (Index i = 0; i < local; ++i) k_distance[i] = hpcad::k_distance(list(i));
  const std::vector<double> neighbor_k_distance = neighbor_values(comm, owned, k_distance, nearest);
  auto values_of = [&](const std::vector<double>& values, Index i) {
    return std::span(values).subspan(i * k(), k());
  };
  for (Index i = 0; i < local; ++i)
    lrd[i] = reachability_density(list(i), values_of(neighbor_k_distance, i));
  const std::vector<double> neighbor_lrd = neighbor_values(comm, owned, lrd, nearest);
  for (Index i = 0; i < local; ++i)
    out[i] = finish(list(i), values_of(neighbor_k_distance, i), values_of(neighbor_lrd, i));
}

ModelState NeighborDetector::save_state() const {
  ModelState state;
  state.reals["mean"] = mean_;
  state.reals["scale"] = scale_;
  if (exact()) return state;
  state.reals["reference"] = reference_;
  state.integers["reference_rows"] = reference_rows_;
  if (kind_ == Kind::kLof) {
    state.reals["k_distance"] = k_distance_;
    state.reals["lrd"] = reachability_;
  }
  return state;
}

void NeighborDetector::load_state(Index n_features, const ModelState& state) {
  const auto d = static_cast<std::size_t>(n_features);
  const auto& mean = state.real("mean", d);
  const auto& scale = state.real("scale", d);
  state.require_finite({"mean", "scale"}, type().c_str());
  for (double v : scale)
    if (!(v > 0))
      throw DataError(fmt::format("{}: {} scales must be positive", state.where, type()));
  std::vector<double> reference;
  std::vector<Index> rows;
  std::vector<double> k_distance, lrd;
  if (!exact()) {
    rows = state.integer("reference_rows");
    const std::size_t m = rows.size();
    if (static_cast<Index>(m) <= k() || static_cast<Index>(m) > params_.integer("sample_size") ||
        rows.front() < 0 ||
        std::adjacent_find(rows.begin(), rows.end(), std::greater_equal<Index>()) != rows.end())
      throw DataError(fmt::format(
          "{}: {} reference_rows must be more than n_neighbors = {}, at most sample_size and "
          "ascending row indices",
          state.where, type(), k()));
    reference = state.real("reference", m * d);
    state.require_finite({"reference"}, type().c_str());
    if (kind_ == Kind::kLof) {
      k_distance = state.real("k_distance", m);
      lrd = state.real("lrd", m);
      state.require_finite({"k_distance", "lrd"}, type().c_str());
      if (std::any_of(k_distance.begin(), k_distance.end(), [](double v) { return v < 0; }) ||
          std::any_of(lrd.begin(), lrd.end(), [](double v) { return !(v > 0); }))
        throw DataError(fmt::format("{}: lof k_distance must be >= 0 and lrd > 0", state.where));
    }
  }
  mean_ = mean;
  scale_ = scale;
  reference_ = std::move(reference);
  reference_rows_ = std::move(rows);
  k_distance_ = std::move(k_distance);
  reachability_ = std::move(lrd);
}

}  // namespace hpcad
