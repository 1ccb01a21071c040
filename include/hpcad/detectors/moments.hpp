#pragma once
/// Global column statistics every statistics-based detector starts from: exact means, and
/// co-moments about those means, each from one pass over the source combined by one
/// reduction. Sums go through ExactSum, so the results are bitwise identical for any rank
/// count and blocking.
#include <Eigen/Dense>
#include <span>
#include <vector>

#include "hpcad/detectors/fit.hpp"
#include "hpcad/detectors/model_state.hpp"

namespace hpcad {

struct ColumnMoments {
  Index rows = 0;
  std::vector<double> mean;    ///< per column
  Eigen::MatrixXd covariance;  ///< population (divided by rows), d x d
};

/// Which co-moments column_moments computes: every column pair (pca, mahalanobis), or only
/// each column with itself (the variances that standardising needs: d sums instead of
/// d (d + 1) / 2; the covariance's off-diagonal entries are then 0).
enum class CoMoments { kAllPairs, kVariances };

/// Collective. Two passes: the exact mean of each column, then the exact sums of products
/// of the centred values (computed in double, then summed exactly). Requires rows > 0.
ColumnMoments column_moments(RowSource& source, CoMoments which = CoMoments::kAllPairs);

/// Scaling that standardises columns as scikit-learn's StandardScaler: the population
/// standard deviation, or 1 for a constant column.
std::vector<double> standard_scale(const ColumnMoments& moments);

/// Statistics of the finite values of some columns (NaN and +-inf are missing values).
struct FiniteColumnStats {
  std::vector<Index> counts;  ///< finite values per column, over all ranks
  std::vector<double> mean;   ///< exact sum / count (NaN for a column without finite values)
  std::vector<double> minimum, maximum;  ///< +inf / -inf for a column without finite values
  std::vector<double> variance;          ///< population (ddof 0); empty unless requested
};

/// Collective. One pass for the counts, exact means, minima and maxima of the finite values
/// of `columns` (indices into the source's columns); with `variance`, a second pass for the
/// exact sums of squared deviations from those means. Bitwise identical for any rank count.
FiniteColumnStats finite_column_stats(RowSource& source, std::span<const Index> columns,
                                      bool variance);

/// Collective. result[c][k] = numpy.quantile of the finite values of column columns[c] at
/// probs[k] (linear interpolation), NaN for a column without finite values; exact, by a few
/// passes over the source (global_quantiles), bitwise identical for any rank count.
std::vector<std::vector<double>> finite_column_quantiles(RowSource& source,
                                                         std::span<const Index> columns,
                                                         std::span<const double> probs);
/// z = (x - mean) / scale, column by column (a model's stored standardisation).
void standardize_row(const std::vector<double>& mean, const std::vector<double>& scale,
                     std::span<const double> x, double* z);

/// z = (x - mean) / scale per column: the global mean and population standard deviation
/// (scikit-learn's StandardScaler), or the identity when standardisation is off.
struct ColumnScaling {
  std::vector<double> mean, scale;

  /// Collective (two passes when `standardize`, none otherwise).
  static ColumnScaling fit(RowSource& source, bool standardize);
  /// Local. Restores "mean" and "scale" of `state` (d values, finite, scale > 0); DataError
  /// naming `model` otherwise.
  static ColumnScaling load(const ModelState& state, std::size_t d, const char* model);
  void save(ModelState& state) const;
  /// Local. z[j] = (x[j] - mean[j]) / scale[j].
  void apply(std::span<const double> x, double* z) const;
  /// Local. `rows` (row-major, mean.size() columns) scaled into `scratch`, or `rows` itself
  /// when the scaling is the identity (standardize off: (x - 0) / 1 == x for every double).
  std::span<const double> apply(std::span<const double> rows, std::vector<double>& scratch) const;
};

}  // namespace hpcad
