#pragma once
/// The feature-transform contract and registry, beside the detector's: a transform turns
/// blocks of input rows into blocks of feature rows, after fitting global statistics it
/// stores in the model (so `hpcad score` applies the training-time statistics).
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hpcad/detectors/fit.hpp"
#include "hpcad/detectors/model_state.hpp"
#include "hpcad/detectors/params.hpp"

namespace hpcad {

class Transform {
 public:
  virtual ~Transform() = default;

  /// Registry name, e.g. "impute".
  virtual std::string type() const = 0;
  virtual const ParamSet& params() const = 0;

  /// The columns apply() produces for `input` (valid after fit or load_state).
  virtual Schema output_schema(const Schema& input) const = 0;
  /// Rows before a block that apply() needs (windows, lags); 0 for row-wise steps.
  virtual Index history_rows() const { return 0; }

  /// Collective. Fits global statistics from the step's input rows.
  virtual void fit(FitContext& context, RowSource& input) = 0;

  /// Local, const and thread-safe. Transforms `block` into `out` (block.n_rows rows of
  /// output_schema() columns, row-major). `history` holds up to history_rows() input rows
  /// immediately before the block (fewer at the start of the table), row-major.
  virtual void apply(const RowBlock& block, std::span<const double> history,
                     std::vector<double>& out) const = 0;

  virtual ModelState save_state() const = 0;
  /// Restores fitted statistics for `input`; throws DataError naming what is inconsistent.
  virtual void load_state(const Schema& input, const ModelState& state) = 0;
};

struct TransformInfo {
  std::string type;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Transform>(const ParamSet&)> make;
};

/// All registered transforms.
const std::vector<TransformInfo>& transform_registry();

/// The registry entry for `type`; throws ConfigError listing the valid types.
const TransformInfo& find_transform(const std::string& type);

/// A new, unfitted transform.
std::unique_ptr<Transform> make_transform(const std::string& type, const ParamSet& params);

/// The `columns` parameter every step shares: the input columns it works on, by name;
/// empty = every input column.
ParamSpec columns_param();

/// Local. Indices into `input` of the step's `columns` (every column when empty), in
/// input order; ConfigError naming the step `type` and the column when one is missing.
std::vector<Index> selected_columns(const ParamSet& params, const Schema& input,
                                    const std::string& type);

/// Local. selected_columns() for a step loaded from a model file: a missing column is a
/// DataError naming where the state came from (the file is untrusted input).
std::vector<Index> stored_columns(const ParamSet& params, const Schema& input,
                                  const std::string& type, const ModelState& state);

/// Column `j` of `schema` for messages: its quoted name, or its index when unnamed.
std::string column_label(const Schema& schema, Index j);

}  // namespace hpcad
