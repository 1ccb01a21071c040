#pragma once
/// Replaces non-finite values (NaN, +-inf) of the selected columns by a per-column value:
/// the mean or median of the column's finite training values, or a constant. The values are
/// stored in the model, so scoring new data uses the training-time values.
#include "hpcad/features/transform.hpp"

namespace hpcad {

class Impute final : public Transform {
 public:
  static std::vector<ParamSpec> param_specs();
  /// ConfigError when strategy = "constant" comes without `value`.
  explicit Impute(ParamSet params);

  std::string type() const override { return "impute"; }
  const ParamSet& params() const override { return params_; }
  Schema output_schema(const Schema& input) const override { return input; }
  /// Collective. The global mean (exact) or median (numpy.quantile) of each selected
  /// column's finite values, rank-count invariant; DataError naming the column when a
  /// column has none. Nothing to compute for a constant.
  void fit(FitContext& context, RowSource& input) override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
  ModelState save_state() const override;
  void load_state(const Schema& input, const ModelState& state) override;

  /// One per selected column.
  const std::vector<double>& fill_values() const { return fill_; }

 private:
  ParamSet params_;
  std::vector<Index> columns_;  ///< selected input columns
  std::vector<double> fill_;    ///< one per selected column
};

}  // namespace hpcad
