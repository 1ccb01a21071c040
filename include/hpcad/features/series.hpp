#pragma once
/// What the feature steps share: the common keys every step takes (`columns`, and the
/// `group_by` / `order_by` key columns the [features] section sets on each step), the
/// columns a step works on, and the view of a block as a sequence of series rows.
///
/// The contract that makes windows exact across blocks and ranks: the value a windowed step
/// derives for a row is a function of that row, the history_rows() input rows before it and
/// its global row index only. TransformedSource can then rebuild any rank's history from
/// the raw rows before it (the halo) and get the same bits as a single process.
#include <span>
#include <string>
#include <vector>

#include "hpcad/features/transform.hpp"

namespace hpcad {

/// `columns` (absent = every column but the keys), `group_by`, `order_by`.
std::vector<ParamSpec> feature_step_specs();
/// feature_step_specs() followed by `own`.
std::vector<ParamSpec> feature_step_specs(std::vector<ParamSpec> own);

/// The input columns a step works on, resolved by name against its input schema.
struct StepColumns {
  std::vector<Index> columns;  ///< the columns transformed, in `columns` order
  Index group = -1;            ///< group_by column; -1 = the table is one series
  Index order = -1;            ///< order_by column; -1 = none
};

/// The columns `params` name in `input`; ConfigError naming the step type and the missing
/// column (with the valid names) otherwise.
StepColumns resolve_step_columns(const std::string& type, const ParamSet& params,
                                 const Schema& input);

/// Local. The columns a step loaded from a model file works on (resolve_step_columns): a
/// missing column is a DataError naming where the state came from (untrusted input).
StepColumns stored_columns(const ParamSet& params, const Schema& input, const std::string& type,
                           const ModelState& state);

/// The name of input column `j` ("3" when the schema has no names).
std::string feature_name(const Schema& schema, Index j);

/// A block and the history rows before it as one sequence of rows: row t < history is
/// history, row history + i is block row i. Knows where each row's series begins and
/// checks that the rows are sorted by (group_by, order_by).
class SeriesRows {
 public:
  /// DataError naming the global row when a block row is out of order or has a
  /// non-finite key.
  SeriesRows(const RowBlock& block, std::span<const double> history, const StepColumns& keys,
             const std::string& step);

  Index history() const { return history_; }
  Index size() const { return history_ + block_.n_rows; }
  /// Global row index of row t.
  Index global(Index t) const { return block_.global_begin - history_ + t; }
  /// First row of row t's series within this sequence (0 when it began earlier).
  Index series_begin(Index t) const {
    return series_begin_.empty() ? 0 : series_begin_[static_cast<std::size_t>(t)];
  }
  /// Column j of every row, into `x` (reused from call to call: no allocation per block).
  void column(Index j, std::vector<double>& x) const;

 private:
  double at(Index t, Index j) const;

  const RowBlock& block_;
  std::span<const double> history_values_;
  Index history_;
  std::span<const Index> series_begin_;  ///< empty when the table is one series
};

/// Base of the feature steps without fitted statistics (log1p, drop and the SeriesSteps):
/// the columns are resolved on fit / load, the parameters are the whole state.
class FeatureStep : public Transform {
 public:
  explicit FeatureStep(ParamSet params) : params_(std::move(params)) {}
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& input) override;
  ModelState save_state() const override { return {}; }
  void load_state(const Schema& input, const ModelState& state) override;

 protected:
  ParamSet params_;
  StepColumns columns_;
};

/// Base of the steps that derive columns from a column's past (diff, lag, rolling, ewm):
/// the output is the input row followed, per transformed column, by derived_suffixes()
/// values.
class SeriesStep : public FeatureStep {
 public:
  using FeatureStep::FeatureStep;
  Schema output_schema(const Schema& input) const override;
  /// lookback(), and at least the row before when the rows have keys: its order is checked.
  Index history_rows() const final;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;

 protected:
  /// Rows before a row that its values depend on.
  virtual Index lookback() const = 0;
  /// Suffixes of the derived columns of one column, e.g. {"_diff1"}.
  virtual std::vector<std::string> derived_suffixes() const = 0;
  /// Writes derived_suffixes().size() values for each block row of column `x` (every row
  /// of `rows`): out[i * stride + k] is value k of block row i.
  virtual void derive(const SeriesRows& rows, std::span<const double> x, double* out,
                      Index stride) const = 0;
};

}  // namespace hpcad
