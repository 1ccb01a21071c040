#include "hpcad/detectors/moments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "hpcad/comm/selection.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {

namespace {

/// Rows per chunk of the co-moment passes: a chunk's centred values stay in L1 while every
/// column pair's products go through ExactSum::add(span), whose batched path is several
/// times faster per value than one add() at a time.
constexpr Index kChunkRows = 256;

}  // namespace

ColumnMoments column_moments(RowSource& source, CoMoments which) {
  const Index d = source.n_features();
  ColumnMoments m;
  m.rows = source.global_rows();
  check_internal(m.rows > 0, "column_moments of an empty table");
  Statistics sums(static_cast<std::size_t>(d), 0);
  std::vector<double> column(static_cast<std::size_t>(kChunkRows));
  accumulate(source, sums, [&](const RowBlock& block, Statistics& s) {
    for (Index begin = 0; begin < block.n_rows; begin += kChunkRows) {
      const Index rows = std::min(kChunkRows, block.n_rows - begin);
      for (Index j = 0; j < d; ++j) {
        for (Index i = 0; i < rows; ++i) column[i] = block.values[(begin + i) * d + j];
        s.sums[j].add(std::span<const double>(column).first(static_cast<std::size_t>(rows)));
      }
    }
  });
  m.mean.resize(static_cast<std::size_t>(d));
  for (Index j = 0; j < d; ++j) m.mean[j] = sums.sums[j].value() / static_cast<double>(m.rows);

  // Upper triangle (or diagonal) of sum((x_j - mean_j)(x_k - mean_k)), a chunk of rows at a
  // time; a diagonal entry is the same sum either way.
  const bool all_pairs = which == CoMoments::kAllPairs;
  Statistics products(static_cast<std::size_t>(all_pairs ? d * (d + 1) / 2 : d), 0);
  std::vector<double> centred(static_cast<std::size_t>(kChunkRows * d));  // column-major
  accumulate(source, products, [&](const RowBlock& block, Statistics& s) {
    for (Index begin = 0; begin < block.n_rows; begin += kChunkRows) {
      const Index rows = std::min(kChunkRows, block.n_rows - begin);
      for (Index i = 0; i < rows; ++i)
        for (Index j = 0; j < d; ++j)
          centred[j * kChunkRows + i] = block.values[(begin + i) * d + j] - m.mean[j];
      std::size_t at = 0;
      for (Index j = 0; j < d; ++j)
        for (Index k = j; k < (all_pairs ? d : j + 1); ++k) {
          const double* a = &centred[j * kChunkRows];
          const double* b = &centred[k * kChunkRows];
          for (Index i = 0; i < rows; ++i) column[i] = a[i] * b[i];
          s.sums[at++].add(std::span<const double>(column).first(static_cast<std::size_t>(rows)));
        }
    }
  });
  m.covariance = Eigen::MatrixXd::Zero(d, d);
  std::size_t at = 0;
  for (Index j = 0; j < d; ++j)
    for (Index k = j; k < (all_pairs ? d : j + 1); ++k)
      m.covariance(j, k) = m.covariance(k, j) =
          products.sums[at++].value() / static_cast<double>(m.rows);
  return m;
}

std::vector<double> standard_scale(const ColumnMoments& moments) {
  std::vector<double> scale(moments.mean.size());
  for (std::size_t j = 0; j < scale.size(); ++j) {
    const double sd = std::sqrt(moments.covariance(static_cast<Index>(j), static_cast<Index>(j)));
    scale[j] = sd > 0 ? sd : 1.0;
  }
  return scale;
}

FiniteColumnStats finite_column_stats(RowSource& source, std::span<const Index> columns,
                                      bool variance) {
  const std::size_t k = columns.size();
  FiniteColumnStats result;
  Statistics sums(k, k, k);
  accumulate(source, sums, [&](const RowBlock& block, Statistics& s) {
    for (Index i = 0; i < block.n_rows; ++i) {
      const auto row = block.row(i);
      for (std::size_t c = 0; c < k; ++c)
        if (const double x = row[columns[c]]; std::isfinite(x)) {
          s.sums[c].add(x);
          ++s.counts[c];
          s.minima[c] = std::min(s.minima[c], x);
          s.maxima[c] = std::max(s.maxima[c], x);
        }
    }
  });
  result.counts.assign(sums.counts.begin(), sums.counts.end());
  result.minimum = sums.minima;
  result.maximum = sums.maxima;
  for (std::size_t c = 0; c < k; ++c)
    result.mean.push_back(sums.sums[c].value() / static_cast<double>(sums.counts[c]));
  if (!variance) return result;
  Statistics squares(k, 0);
  accumulate(source, squares, [&](const RowBlock& block, Statistics& s) {
    for (Index i = 0; i < block.n_rows; ++i) {
      const auto row = block.row(i);
      for (std::size_t c = 0; c < k; ++c)
        if (const double x = row[columns[c]]; std::isfinite(x)) {
          const double deviation = x - result.mean[c];
          s.sums[c].add(deviation * deviation);
        }
    }
  });
  for (std::size_t c = 0; c < k; ++c)
    result.variance.push_back(squares.sums[c].value() / static_cast<double>(sums.counts[c]));
  return result;
}

std::vector<std::vector<double>> finite_column_quantiles(RowSource& source,
                                                         std::span<const Index> columns,
                                                         std::span<const double> probs) {
  const ColumnPass pass = [&](const std::function<void(Index, double)>& visit) {
    source.rewind();
    RowBlock block;
    while (source.next(block))
      for (Index i = 0; i < block.n_rows; ++i) {
        const auto row = block.row(i);
        for (std::size_t c = 0; c < columns.size(); ++c)
          // +-inf are missing values here as everywhere in the feature steps.
          if (const double x = row[columns[c]]; std::isfinite(x)) visit(static_cast<Index>(c), x);
      }
  };
  return global_quantiles(source.comm(), static_cast<Index>(columns.size()), pass, probs);
}

void standardize_row(const std::vector<double>& mean, const std::vector<double>& scale,
                     std::span<const double> x, double* z) {
  for (std::size_t j = 0; j < mean.size(); ++j) z[j] = (x[j] - mean[j]) / scale[j];
}

ColumnScaling ColumnScaling::fit(RowSource& source, bool standardize) {
  const auto d = static_cast<std::size_t>(source.n_features());
  if (!standardize) return {std::vector<double>(d, 0.0), std::vector<double>(d, 1.0)};
  const ColumnMoments moments = column_moments(source, CoMoments::kVariances);
  return {moments.mean, standard_scale(moments)};
}

ColumnScaling ColumnScaling::load(const ModelState& state, std::size_t d, const char* model) {
  ColumnScaling scaling{state.real("mean", d), state.real("scale", d)};
  state.require_finite({"mean", "scale"}, model);
  for (const double s : scaling.scale)
    if (!(s > 0)) throw DataError(fmt::format("{}: {} scale must be positive", state.where, model));
  return scaling;
}

void ColumnScaling::save(ModelState& state) const {
  state.reals["mean"] = mean;
  state.reals["scale"] = scale;
}

void ColumnScaling::apply(std::span<const double> x, double* z) const {
  standardize_row(mean, scale, x, z);
}

std::span<const double> ColumnScaling::apply(std::span<const double> rows,
                                             std::vector<double>& scratch) const {
  const bool identity = std::all_of(mean.begin(), mean.end(), [](double m) { return m == 0; }) &&
                        std::all_of(scale.begin(), scale.end(), [](double s) { return s == 1; });
  if (identity || mean.empty()) return rows;
  const std::size_t d = mean.size();
  scratch.resize(rows.size());
  for (std::size_t at = 0; at + d <= rows.size(); at += d)
    apply(rows.subspan(at, d), scratch.data() + at);
  return scratch;
}

}  // namespace hpcad
