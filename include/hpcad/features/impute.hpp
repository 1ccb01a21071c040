#pragma once
/// Replaces non-finite values (NaN, +-inf) by a per-column statistic of the training rows,
/// stored in the model so that scoring new data uses the training-time values.
#include "hpcad/features/transform.hpp"

namespace hpcad {

class Impute final : public Transform {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Impute(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "impute"; }
  const ParamSet& params() const override { return params_; }
  Schema output_schema(const Schema& input) const override { return input; }
  /// Collective. The global mean of each column's finite values (exact, rank-count
  /// invariant); DataError naming the column when a column has none.
  void fit(FitContext& context, RowSource& input) override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
  ModelState save_state() const override;
  void load_state(const Schema& input, const ModelState& state) override;

  const std::vector<double>& fill_values() const { return fill_; }

 private:
  ParamSet params_;
  std::vector<double> fill_;  ///< one per column
};

}  // namespace hpcad
