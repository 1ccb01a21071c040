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
  /// Rows before a block that apply() needs (windows, lags); 0 for row-wise steps. A row's
  /// output may depend on that row, the history_rows() input rows before it and its global
  /// index only: TransformedSource rebuilds histories across ranks from that (its halo).
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

/// Column `j` of `schema` for messages: its quoted name, or its index when unnamed.
std::string column_label(const Schema& schema, Index j);

}  // namespace hpcad
