#include "hpcad/detectors/hbos.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hpcad/comm/selection.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

/// numpy's histogram edges for n equal bins over [lo, hi]: linspace(lo, hi, n + 1), with a
/// constant column widened to [lo - 0.5, hi + 0.5] as numpy does.
std::vector<double> static_edges(double lo, double hi, Index n_bins) {
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double step = (hi - lo) / static_cast<double>(n_bins);
  std::vector<double> edges(static_cast<std::size_t>(n_bins + 1));
  for (Index i = 0; i < n_bins; ++i) edges[i] = static_cast<double>(i) * step + lo;
  edges[n_bins] = hi;
  return edges;
}

/// Quantile (dynamic) edges of every column: numpy's linear quantiles at linspace(0, 1,
/// n_bins + 1), exact over all ranks, with equal edges merged (np.unique), so a column with
/// many ties gets fewer, wider bins; a column of one value is widened as static_edges does.
std::vector<std::vector<double>> quantile_edges(RowSource& source, const ColumnScaling& scaling,
                                                Index n_bins) {
  const Index d = source.n_features();
  const ColumnPass pass = [&](const std::function<void(Index, double)>& visit) {
    source.rewind();
    RowBlock block;
    std::vector<double> scaled;
    while (source.next(block)) {
      const std::span<const double> values = scaling.apply(block.values, scaled);
      for (Index i = 0; i < block.n_rows; ++i)
        for (Index j = 0; j < d; ++j) visit(j, values[i * d + j]);
    }
  };
  const std::vector<double> probs = static_edges(0.0, 1.0, n_bins);
  std::vector<std::vector<double>> edges = global_quantiles(source.comm(), d, pass, probs);
  for (std::vector<double>& column : edges) {
    std::sort(column.begin(), column.end());
    column.erase(std::unique(column.begin(), column.end()), column.end());
    if (column.size() == 1) column = static_edges(column[0], column[0], 1);
  }
  return edges;
}

/// The bin of x among `edges` (as numpy's histogram: [e_i, e_i+1), the last bin closed), or
/// -1 below the first edge and -2 above the last.
Index bin_of(const double* edges, Index n_edges, double x) {
  if (x < edges[0]) return -1;
  if (x > edges[n_edges - 1]) return -2;
  // The edges at or below x, less one. Counted without branches for the usual few bins
  // (a mispredicted binary search step costs more than the whole count), searched for many.
  Index at = 0;
  if (n_edges <= 32) {
    for (Index e = 1; e < n_edges; ++e) at += edges[e] <= x ? 1 : 0;
  } else {
    at = std::upper_bound(edges, edges + n_edges, x) - edges - 1;
  }
  return std::min(at, n_edges - 2);
}

}  // namespace

std::vector<ParamSpec> Hbos::param_specs() {
  return {
      ParamSpec::integer("n_bins", 10, 1, 1 << 20, "bins per feature (PyOD's default 10)"),
      ParamSpec::string("bins", "static", {"static", "quantile"},
                        "\"static\": n_bins bins of equal width between the global minimum "
                        "and maximum (numpy's histogram); \"quantile\": edges at the exact "
                        "global quantiles i / n_bins (about equal counts), equal edges merged"),
      ParamSpec::real("alpha", 0.1, 0.0, std::numeric_limits<double>::max(),
                      "regulariser added to every bin's density before the logarithm (PyOD)"),
      ParamSpec::real("tol", 0.5, 0.0, std::numeric_limits<double>::max(),
                      "a value outside the fitted range within tol bin widths of it scores as "
                      "the edge bin; farther out as the emptiest bin (PyOD)"),
      ParamSpec::boolean("standardize", false,
                         "scale columns to zero mean and unit variance first (global, stored in "
                         "the model); static bins hold the same rows either way, but densities "
                         "are per scaled unit, which changes how much alpha weighs"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "unused: the fit is deterministic (kept for a uniform interface)"),
  };
}

void Hbos::fit(FitContext& context, RowSource& source) {
  const Index d = source.n_features();
  if (source.global_rows() == 0) throw DataError("cannot fit hbos: the input has no rows");
  const Index n_bins = params_.integer("n_bins");
  const auto d_size = static_cast<std::size_t>(d);
  scaling_ = ColumnScaling::fit(source, params_.boolean("standardize"));
  std::vector<double> scaled;

  // Pass 1: range and non-NaN count of every column.
  Statistics range(0, d_size, d_size);
  accumulate(source, range, [&](const RowBlock& block, Statistics& s) {
    const std::span<const double> values = scaling_.apply(block.values, scaled);
    for (Index i = 0; i < block.n_rows; ++i)
      for (Index j = 0; j < d; ++j)
        if (const double x = values[i * d + j]; !std::isnan(x)) {
          s.minima[j] = std::min(s.minima[j], x);
          s.maxima[j] = std::max(s.maxima[j], x);
          ++s.counts[j];
        }
  });
  for (Index j = 0; j < d; ++j) {
    if (range.counts[j] == 0)
      throw DataError(fmt::format("cannot fit hbos: column {} has no values (all NaN)", j));
    if (!std::isfinite(range.minima[j]) || !std::isfinite(range.maxima[j]))
      throw DataError(fmt::format("cannot fit hbos: column {} has an infinite value", j));
  }
  const std::vector<std::vector<double>> quantile = params_.string("bins") == "quantile"
                                                        ? quantile_edges(source, scaling_, n_bins)
                                                        : std::vector<std::vector<double>>{};
  edge_offsets_.assign(1, 0);
  edges_.clear();
  for (Index j = 0; j < d; ++j) {
    const std::vector<double> column =
        quantile.empty() ? static_edges(range.minima[j], range.maxima[j], n_bins) : quantile[j];
    edges_.insert(edges_.end(), column.begin(), column.end());
    edge_offsets_.push_back(static_cast<Index>(edges_.size()));
  }

  // Pass 2: bin counts of every column; bin b of column j at edge_offsets_[j] - j + b.
  Statistics counts(0, edges_.size() - d_size);
  accumulate(source, counts, [&](const RowBlock& block, Statistics& s) {
    const std::span<const double> values = scaling_.apply(block.values, scaled);
    for (Index i = 0; i < block.n_rows; ++i)
      for (Index j = 0; j < d; ++j)
        if (const double x = values[i * d + j]; !std::isnan(x)) {
          const Index begin = edge_offsets_[j];
          const Index bin = bin_of(edges_.data() + begin, edge_offsets_[j + 1] - begin, x);
          check_internal(bin >= 0, "hbos: a value outside the global range");
          ++s.counts[begin - j + bin];
        }
  });
  // numpy's density=True: count / width / total, in that order.
  density_.resize(counts.counts.size());
  for (Index j = 0; j < d; ++j)
    for (Index e = edge_offsets_[j]; e + 1 < edge_offsets_[j + 1]; ++e)
      density_[e - j] = static_cast<double>(counts.counts[e - j]) / (edges_[e + 1] - edges_[e]) /
                        static_cast<double>(range.counts[j]);
  derive_bin_scores();
  context.log.debug("hbos: {} bins over {} features", density_.size(), d);
}

void Hbos::derive_bin_scores() {
  const double alpha = params_.real("alpha");
  bin_score_.resize(density_.size());
  for (std::size_t b = 0; b < density_.size(); ++b) bin_score_[b] = -std::log2(density_[b] + alpha);
  outside_score_.clear();
  for (Index j = 0; j < n_features(); ++j)
    outside_score_.push_back(
        *std::max_element(bin_score_.begin() + (edge_offsets_[j] - j),
                          bin_score_.begin() + (edge_offsets_[j + 1] - j - 1)));
}

double Hbos::contribution(Index j, double x) const {
  if (std::isnan(x)) return x;
  const Index begin = edge_offsets_[j], n_edges = edge_offsets_[j + 1] - begin;
  const double* edges = edges_.data() + begin;
  const double* scores = bin_score_.data() + (begin - j);
  const Index bin = bin_of(edges, n_edges, x);
  if (bin >= 0) return scores[bin];
  const double tol = params_.real("tol");
  if (bin == -1) return edges[0] - x <= tol * (edges[1] - edges[0]) ? scores[0] : outside_score_[j];
  return x - edges[n_edges - 1] <= tol * (edges[n_edges - 1] - edges[n_edges - 2])
             ? scores[n_edges - 2]
             : outside_score_[j];
}

void Hbos::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features();
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  // One buffer per thread: scoring is const and thread-safe, and a fresh one per block
  // would cost page faults on every call when standardize is on.
  thread_local std::vector<double> scaled;
  const std::span<const double> values = scaling_.apply(block.values, scaled);
  for (Index i = 0; i < block.n_rows; ++i) {
    double sum = 0;
    for (Index j = 0; j < d; ++j) sum += contribution(j, values[i * d + j]);
    out[i] = sum;
  }
}

ModelState Hbos::save_state() const {
  ModelState state;
  scaling_.save(state);
  state.integers["edge_offsets"] = edge_offsets_;
  state.reals["edges"] = edges_;
  state.reals["density"] = density_;
  return state;
}

void Hbos::load_state(Index n_features, const ModelState& state) {
  ColumnScaling scaling = ColumnScaling::load(state, static_cast<std::size_t>(n_features), "hbos");
  const auto& offsets = state.integer("edge_offsets", static_cast<std::size_t>(n_features) + 1);
  const auto& edges = state.real("edges");
  const auto& density = state.real("density");
  auto fail = [&](const std::string& why) {
    throw DataError(fmt::format("{}: invalid hbos model: {}", state.where, why));
  };
  if (offsets.front() != 0 || offsets.back() != static_cast<Index>(edges.size()))
    fail("edge_offsets do not span the edges");
  if (density.size() + static_cast<std::size_t>(n_features) != edges.size())
    fail("density does not hold one value per bin");
  state.require_finite({"edges", "density"}, "hbos");
  // Every feature at least one bin (so the offsets increase and stay inside the edges),
  // edges strictly increasing, densities non-negative.
  for (const Index offset : offsets)
    if (offset < 0 || offset > static_cast<Index>(edges.size())) fail("edge_offsets out of range");
  for (Index j = 0; j < n_features; ++j)
    if (offsets[j + 1] - offsets[j] < 2)
      fail(fmt::format("feature {} has fewer than two edges", j));
  for (Index j = 0; j < n_features; ++j) {
    for (Index e = offsets[j]; e + 1 < offsets[j + 1]; ++e)
      if (!(edges[e] < edges[e + 1]) || !(density[e - j] >= 0))
        fail(fmt::format("feature {}: edges not increasing or a density negative", j));
  }
  scaling_ = std::move(scaling);
  edge_offsets_ = offsets;
  edges_ = edges;
  density_ = density;
  derive_bin_scores();
}

}  // namespace hpcad
