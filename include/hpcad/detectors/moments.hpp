#pragma once
/// Global column statistics every statistics-based detector starts from: exact means, and
/// co-moments about those means, each from one pass over the source combined by one
/// reduction. Sums go through ExactSum, so the results are bitwise identical for any rank
/// count and blocking.
#include <Eigen/Dense>
#include <span>
#include <vector>

#include "hpcad/detectors/fit.hpp"

namespace hpcad {

struct ColumnMoments {
  Index rows = 0;
  std::vector<double> mean;    ///< per column
  Eigen::MatrixXd covariance;  ///< population (divided by rows), d x d
};

/// Collective. Two passes: the exact mean of each column, then the exact sums of products
/// of the centred values (computed in double, then summed exactly). Requires rows > 0.
ColumnMoments column_moments(RowSource& source);

/// Scaling that standardises columns as scikit-learn's StandardScaler: the population
/// standard deviation, or 1 for a constant column.
std::vector<double> standard_scale(const ColumnMoments& moments);

/// z = (x - mean) / scale, column by column (a model's stored standardisation).
void standardize_row(const std::vector<double>& mean, const std::vector<double>& scale,
                     std::span<const double> x, double* z);

}  // namespace hpcad
