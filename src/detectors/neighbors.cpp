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

/// Candidate rows are searched kTileRows at a time, stored transposed (a tile's first feature
/// of each row, then its second, ...): the distances to a tile's rows are computed side by
/// side in vector registers, with no horizontal sum per pair.
constexpr Index kTileRows = 8;

/// `rows` (row-major, `d` columns) as tiles of kTileRows rows, each transposed; the last tile
/// padded with zeros.
std::vector<double> tile_rows(std::span<const double> rows, Index d) {
  const Index n = d == 0 ? 0 : static_cast<Index>(rows.size()) / d;
  std::vector<double> tiled(
      static_cast<std::size_t>((n + kTileRows - 1) / kTileRows * kTileRows * d));
  for (Index r = 0; r < n; ++r)
    for (Index j = 0; j < d; ++j)
      tiled[(r / kTileRows) * kTileRows * d + j * kTileRows + r % kTileRows] = rows[r * d + j];
  return tiled;
}

/// The squared Euclidean distances from `query` to the rows of `tile`, each summed directly
/// from the differences (no |x|^2 + |y|^2 - 2xy cancellation) in four partial sums, of the
/// features j = 0, 1, 2, 3 (mod 4), combined as (0 + 1) + (2 + 3): a fixed order per pair, so
/// a pair gives the same bits on every rank, at any tile position, on any CPU.
inline void tile_distances(const double* query, const double* tile, Index d, double* out) {
  double p0[kTileRows] = {}, p1[kTileRows] = {}, p2[kTileRows] = {}, p3[kTileRows] = {};
  Index j = 0;
  for (; j + 4 <= d; j += 4) {
    const double q0 = query[j], q1 = query[j + 1], q2 = query[j + 2], q3 = query[j + 3];
    const double* c0 = tile + j * kTileRows;
    const double *c1 = c0 + kTileRows, *c2 = c1 + kTileRows, *c3 = c2 + kTileRows;
    for (Index t = 0; t < kTileRows; ++t) {
      p0[t] += (q0 - c0[t]) * (q0 - c0[t]);
      p1[t] += (q1 - c1[t]) * (q1 - c1[t]);
      p2[t] += (q2 - c2[t]) * (q2 - c2[t]);
      p3[t] += (q3 - c3[t]) * (q3 - c3[t]);
    }
  }
  for (; j < d; ++j) {
    const double q = query[j];
    const double* column = tile + j * kTileRows;
    for (Index t = 0; t < kTileRows; ++t) p0[t] += (q - column[t]) * (q - column[t]);
  }
  for (Index t = 0; t < kTileRows; ++t) out[t] = (p0[t] + p1[t]) + (p2[t] + p3[t]);
}

/// Offers each of `rows` (values row-major, the same tiled by tile_rows, global indices `ids`)
/// to the sorted k-best list of the row `query` (global index `query_row`). The query itself
/// is skipped: a reference row with its global index and bitwise its values, so rows of
/// another input that merely share an index still count. On x86-64, compiled for AVX2 and for
/// the baseline, chosen at load time by the CPU: the same operations in the same order (no
/// FMA), so the same bits, at twice the vector width.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx2", "default")))
#endif
void search(
    const double* query, Index query_row, std::span<const double> rows,
    std::span<const double> tiled, std::span<const Index> ids, Index d,
    std::span<Neighbor> nearest) {
  const auto bytes = static_cast<std::size_t>(d) * sizeof(double);
  const auto n = static_cast<Index>(ids.size());
  double distances[kTileRows];
  double bound = nearest.back().squared;  // a row further than the k-th is no candidate
  for (Index first = 0; first < n; first += kTileRows) {
    tile_distances(query, tiled.data() + first * d, d, distances);
    // Once the list is full most tiles hold no candidate: one vector comparison says so.
    bool any = false;
    for (Index t = 0; t < kTileRows; ++t) any |= distances[t] <= bound;
    if (!any) continue;
    for (Index t = 0; t < std::min(kTileRows, n - first); ++t) {
      if (distances[t] > bound) continue;
      const Index r = first + t;
      const Neighbor candidate{distances[t], ids[r]};
      if (!(candidate < nearest.back())) continue;
      if (ids[r] == query_row && std::memcmp(query, rows.data() + r * d, bytes) == 0) continue;
      std::size_t at = nearest.size() - 1;
      for (; at > 0 && candidate < nearest[at - 1]; --at) nearest[at] = nearest[at - 1];
      nearest[at] = candidate;
      bound = nearest.back().squared;
    }
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
  const ColumnMoments moments = column_moments(source, CoMoments::kVariances);
  mean_ = moments.mean;
  scale_ = params_.boolean("standardize") ? standard_scale(moments) : std::vector<double>(d, 1.0);
  reference_.clear();
  reference_tiles_.clear();
  reference_rows_.clear();
  k_distance_.clear();
  reachability_.clear();
  if (exact()) return;
  RandomStream rng(static_cast<std::uint64_t>(params_.integer("seed")), type() + ".sample", 0);
  reference_rows_ = sample_without_replacement(n, m, rng);
  reference_ = gather_rows(source, reference_rows_);
  for (Index i = 0; i < m; ++i)
    standardize(std::span(reference_).subspan(i * d, d), reference_.data() + i * d);
  reference_tiles_ = tile_rows(reference_, d);
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
    search(reference_.data() + i * d, reference_rows_[i], reference_, reference_tiles_,
           reference_rows_, d, list);
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
    search(z.data(), block.global_begin + i, reference_, reference_tiles_, reference_rows_, d,
           nearest);
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

/// Collective. The exact k-best lists of this rank's rows, chunk by chunk: chunk t holds the
/// local rows [t * chunk_rows, ...), its lists k values each; every rank calls lists(t) for
/// the same t, for t < rounds (a rank past its last chunk gets an empty span).
class ExactSearch {
 public:
  virtual ~ExactSearch() = default;
  virtual std::span<const Neighbor> lists(Index t) = 0;
  Index chunk_rows = 0, rounds = 1;
};

namespace {

/// Collective. Offers every rank's `own` rows (standardised, rank r's the global rows
/// `owned[r]`), travelling around the ring, to the k-best lists of `queries` (row-major, the
/// consecutive global rows from `first_query`).
void search_ring(Comm& comm, const std::vector<double>& own, const std::vector<IndexRange>& owned,
                 std::span<const double> queries, Index first_query, Index d, Index k,
                 std::span<Neighbor> nearest) {
  std::vector<Index> ids;
  ring(comm, own, [&](int origin, std::span<const double> visiting) {
    const IndexRange range = owned[static_cast<std::size_t>(origin)];
    ids.resize(static_cast<std::size_t>(range.size()));
    std::iota(ids.begin(), ids.end(), range.begin);
    const std::vector<double> tiled = tile_rows(visiting, d);
    for (Index i = 0; i < static_cast<Index>(nearest.size()) / k; ++i)
      search(queries.data() + i * d, first_query + i, visiting, tiled, ids, d,
             nearest.subspan(i * k, k));
  });
}

/// The rank's standardised rows in memory, around the ring once: one chunk of all the rows.
class InMemorySearch final : public ExactSearch {
 public:
  InMemorySearch(Comm& comm, const RowSlab& slab, Index k, const std::vector<IndexRange>& owned) {
    chunk_rows = slab.n_rows();
    nearest_.resize(static_cast<std::size_t>(chunk_rows * k));
    clear(nearest_);
    search_ring(comm, slab.values, owned, slab.values, slab.global_begin, slab.n_features(), k,
                nearest_);
  }
  std::span<const Neighbor> lists(Index) override { return nearest_; }

 private:
  std::vector<Neighbor> nearest_;
};

/// Out of core: chunk t's rows are read by one pass over the source, then every rank's rows
/// travel around the ring block by block during a second pass, so a rank holds one chunk of
/// queries, its k-best lists and a few blocks, never all its rows.
class ChunkedSearch final : public ExactSearch {
 public:
  /// `mean` and `scale` standardise the rows (the detector's, outliving this).
  ChunkedSearch(Comm& comm, RowSource& rows, Index k, Index chunk, const std::vector<double>& mean,
                const std::vector<double>& scale)
      : comm_(comm), rows_(rows), k_(k), mean_(mean), scale_(scale) {
    chunk_rows = chunk;
    const Index chunks = (rows.local_rows() + chunk - 1) / chunk;
    rounds = comm.allreduce_value(std::int64_t{chunks}, ReduceOp::kMax);
  }

  std::span<const Neighbor> lists(Index t) override {
    const Index d = rows_.n_features();
    const Index begin = std::min(t * chunk_rows, rows_.local_rows());
    const Index count = std::min(chunk_rows, rows_.local_rows() - begin);
    std::vector<Index> wanted(static_cast<std::size_t>(count));
    std::iota(wanted.begin(), wanted.end(), rows_.local_begin() + begin);
    std::vector<double> queries = gather_local_rows(rows_, wanted);
    standardize_rows(queries);
    nearest_.resize(static_cast<std::size_t>(count * k_));
    clear(nearest_);
    std::vector<double> scaled;
    RowBlock block;
    rows_.rewind();
    while (rows_.next(block)) {
      scaled.assign(block.values.begin(), block.values.end());
      standardize_rows(scaled);
      search_ring(
          comm_, scaled,
          comm_.allgather(IndexRange{block.global_begin, block.global_begin + block.n_rows}),
          queries, rows_.local_begin() + begin, d, k_, nearest_);
    }
    return nearest_;
  }

 private:
  void standardize_rows(std::vector<double>& rows) const {
    const std::size_t d = mean_.size();
    for (std::size_t at = 0; at + d <= rows.size(); at += d)
      standardize_row(mean_, scale_, std::span(rows).subspan(at, d), rows.data() + at);
  }

  Comm& comm_;
  RowSource& rows_;
  Index k_;
  const std::vector<double>& mean_;
  const std::vector<double>& scale_;
  std::vector<Neighbor> nearest_;
};

}  // namespace

void NeighborDetector::score_collective(Comm& comm, RowSource& rows, std::span<double> out) const {
  if (!exact()) return Detector::score_collective(comm, rows, out);
  const Index d = n_features(), n = rows.global_rows(), local = rows.local_rows();
  if (k() >= n)
    throw ConfigError(fmt::format(
        "detector.n_neighbors = {}: must be less than the {} rows of the input", k(), n));
  // lof keeps every local row's k-distance and lrd (16 bytes) and fetches k of each per query.
  const std::int64_t per_row = kind_ == Kind::kLof ? 16 : 0;
  const std::int64_t per_query = static_cast<std::int64_t>(k() * (sizeof(Neighbor) + per_row));
  // In memory: the rows, the visiting and the received copy of a rank's rows, the lists.
  const std::int64_t in_memory = local * (3 * d * 8 + per_query + per_row);
  const std::int64_t spare = rows.spare_bytes();
  std::unique_ptr<ExactSearch> searcher;
  if (comm.allreduce_value(std::int64_t{in_memory <= spare}, ReduceOp::kMin) == 1) {
    RowSlab slab = read_all(rows);
    for (Index i = 0; i < local; ++i) standardize(slab.row(i), slab.values.data() + i * d);
    searcher = std::make_unique<InMemorySearch>(
        comm, slab, k(),
        comm.allgather(IndexRange{rows.local_begin(), rows.local_begin() + local}));
  } else {
    // A query: its raw and standardised values, its row index, its list and lof's fetches.
    const std::int64_t query_bytes = 2 * d * 8 + 8 + per_query;
    const Index chunk = std::max<std::int64_t>(1, (spare - local * per_row) / query_bytes);
    searcher = std::make_unique<ChunkedSearch>(comm, rows, k(), chunk, mean_, scale_);
  }
  score_exact(comm, rows, *searcher, out);
}

void NeighborDetector::score_exact(Comm& comm, RowSource& rows, ExactSearch& searcher,
                                   std::span<double> out) const {
  const Index local = rows.local_rows();
  const std::vector<IndexRange> owned =
      comm.allgather(IndexRange{rows.local_begin(), rows.local_begin() + local});
  // Visits every chunk's lists: f(first local row, its lists), the same rounds on every rank.
  auto each_chunk = [&](const std::function<void(Index, std::span<const Neighbor>)>& f) {
    for (Index t = 0; t < searcher.rounds; ++t)
      f(std::min(t * searcher.chunk_rows, local), searcher.lists(t));
  };
  auto list = [&](std::span<const Neighbor> lists, Index i) { return lists.subspan(i * k(), k()); };
  auto rows_of = [&](std::span<const Neighbor> lists) {
    return static_cast<Index>(lists.size()) / k();
  };
  if (kind_ != Kind::kLof) {
    each_chunk([&](Index first, std::span<const Neighbor> lists) {
      for (Index i = 0; i < rows_of(lists); ++i) out[first + i] = finish(list(lists, i), {}, {});
    });
    return;
  }
  // lof: the k-distances, then the lrds from the neighbours' k-distances, then the scores
  // from the neighbours' lrds; each from the lists (recomputed per round when chunked) and
  // one more ring pass of per-row values.
  std::vector<double> k_distance(static_cast<std::size_t>(local)), lrd(k_distance.size());
  each_chunk([&](Index first, std::span<const Neighbor> lists) {
    for (Index i = 0; i < rows_of(lists); ++i)
      k_distance[first + i] = hpcad::k_distance(list(lists, i));
  });
  auto values_of = [&](const std::vector<double>& values, Index i) {
    return std::span(values).subspan(i * k(), k());
  };
  each_chunk([&](Index first, std::span<const Neighbor> lists) {
    const std::vector<double> neighbor_k_distance = neighbor_values(comm, owned, k_distance, lists);
    for (Index i = 0; i < rows_of(lists); ++i)
      lrd[first + i] = reachability_density(list(lists, i), values_of(neighbor_k_distance, i));
  });
  each_chunk([&](Index first, std::span<const Neighbor> lists) {
    const std::vector<double> neighbor_k_distance = neighbor_values(comm, owned, k_distance, lists);
    const std::vector<double> neighbor_lrd = neighbor_values(comm, owned, lrd, lists);
    for (Index i = 0; i < rows_of(lists); ++i)
      out[first + i] =
          finish(list(lists, i), values_of(neighbor_k_distance, i), values_of(neighbor_lrd, i));
  });
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
  reference_tiles_ = tile_rows(reference_, static_cast<Index>(d));
  reference_rows_ = std::move(rows);
  k_distance_ = std::move(k_distance);
  reachability_ = std::move(lrd);
}

}  // namespace hpcad
