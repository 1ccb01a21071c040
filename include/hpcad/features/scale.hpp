#pragma once
/// Rescales the selected columns to x' = (x - center) / scale with training-time statistics
/// of each column's finite values, as scikit-learn's scalers:
///   standard: mean and population standard deviation (StandardScaler),
///   robust:   median and interquartile range, numpy.quantile 0.25 / 0.75 (RobustScaler),
///   minmax:   minimum and range, onto [0, 1] (MinMaxScaler).
/// A zero spread scales by 1. Non-finite values pass through unchanged.
#include "hpcad/features/transform.hpp"

namespace hpcad {

class Scale final : public Transform {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Scale(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "scale"; }
  const ParamSet& params() const override { return params_; }
  Schema output_schema(const Schema& input) const override { return input; }
  /// Collective. Exact over all ranks (bitwise identical for any rank count); DataError
  /// naming the column when a column has no finite value.
  void fit(FitContext& context, RowSource& input) override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
  ModelState save_state() const override;
  void load_state(const Schema& input, const ModelState& state) override;

  /// One per selected column.
  const std::vector<double>& centers() const { return center_; }
  const std::vector<double>& scales() const { return scale_; }

 private:
  ParamSet params_;
  std::vector<Index> columns_;  ///< selected input columns
  std::vector<double> center_, scale_;
};

}  // namespace hpcad
