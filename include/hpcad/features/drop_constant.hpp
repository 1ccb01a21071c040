#pragma once
/// Drops the selected columns whose finite training values are all equal (zero variance,
/// exactly) or absent: they cannot tell rows apart. The kept columns are stored in the
/// model, so scoring drops the same columns whatever new data holds.
#include "hpcad/features/transform.hpp"

namespace hpcad {

class DropConstant final : public Transform {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit DropConstant(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "drop_constant"; }
  const ParamSet& params() const override { return params_; }
  /// The kept columns of `input`, in input order.
  Schema output_schema(const Schema& input) const override;
  /// Collective. Global minimum and maximum of each selected column's finite values;
  /// DataError when no column would remain.
  void fit(FitContext& context, RowSource& input) override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
  ModelState save_state() const override;
  void load_state(const Schema& input, const ModelState& state) override;

  /// Indices of the kept input columns, increasing.
  const std::vector<Index>& kept() const { return kept_; }

 private:
  ParamSet params_;
  std::vector<Index> kept_;
};

}  // namespace hpcad
