#pragma once
/// Replaces non-finite values (NaN, +-inf) of the selected columns by a per-column value:
/// the mean or median of the column's finite training values, or a constant. The values are
/// stored in the model, so scoring new data uses the training-time values.
///
/// strategy = "ffill" instead carries the last finite value of the row's series forward
/// (pandas groupby(group_by).ffill(limit=limit)), over at most `limit` rows: a windowed step
/// with history_rows() = limit, so TransformedSource's halo makes it exact across blocks and
/// ranks. Why a limit rather than pandas' unbounded default: a row's value may only depend on
/// a bounded number of rows before it (series.hpp); an unbounded reach would need a carried
/// per-step state exchanged between ranks, which the halo does not have. Rows before their
/// series' first finite value, and gaps longer than `limit`, stay non-finite (as in pandas)
/// and reach the non-finite check after the last step unless a later impute fills them.
/// Like the other strategies it replaces every non-finite value, +-inf too (pandas' ffill
/// carries an inf forward as a value).
#include "hpcad/features/series.hpp"

namespace hpcad {

class Impute final : public Transform {
 public:
  static std::vector<ParamSpec> param_specs();
  /// ConfigError when strategy = "constant" comes without `value`.
  explicit Impute(ParamSet params);

  std::string type() const override { return "impute"; }
  const ParamSet& params() const override { return params_; }
  Schema output_schema(const Schema& input) const override { return input; }
  /// `limit` for ffill (its window), 0 otherwise.
  Index history_rows() const override;
  /// Collective. The global mean (exact) or median (numpy.quantile) of each selected
  /// column's finite values, rank-count invariant; DataError naming the column when a
  /// column has none. Nothing to compute for a constant or ffill.
  void fit(FitContext& context, RowSource& input) override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
  ModelState save_state() const override;
  void load_state(const Schema& input, const ModelState& state) override;

  /// One per selected column (none for ffill).
  const std::vector<double>& fill_values() const { return fill_; }

 private:
  bool is_ffill() const { return params_.string("strategy") == "ffill"; }
  /// strategy = "ffill": `out` (the block's rows) with each non-finite value of a selected
  /// column replaced by the last finite value at most `limit` rows before it in its series.
  void fill_forward(const RowBlock& block, std::span<const double> history,
                    std::vector<double>& out) const;

  ParamSet params_;
  StepColumns columns_;       ///< selected input columns and the series keys
  std::vector<double> fill_;  ///< one per selected column; empty for ffill
};

}  // namespace hpcad
