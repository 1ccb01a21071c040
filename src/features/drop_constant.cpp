#include "hpcad/features/drop_constant.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"
#include "hpcad/features/series.hpp"

namespace hpcad {

std::vector<ParamSpec> DropConstant::param_specs() { return feature_step_specs(); }

Schema DropConstant::output_schema(const Schema& input) const {
  Schema out;
  out.n_features = static_cast<Index>(kept_.size());
  if (!input.feature_names.empty())
    for (const Index j : kept_) out.feature_names.push_back(input.feature_names[j]);
  return out;
}

void DropConstant::fit(FitContext& context, RowSource& input) {
  const Schema& schema = input.info().schema;
  std::vector<Index> candidates = resolve_step_columns(type(), params_, schema).columns;
  std::sort(candidates.begin(), candidates.end());
  const FiniteColumnStats stats = finite_column_stats(input, candidates, false);
  std::vector<Index> dropped;
  for (std::size_t c = 0; c < candidates.size(); ++c)
    if (!(stats.minimum[c] < stats.maximum[c])) dropped.push_back(candidates[c]);
  kept_.clear();
  std::vector<std::string> dropped_names;
  for (Index j = 0; j < schema.n_features; ++j) {
    if (std::binary_search(dropped.begin(), dropped.end(), j))
      dropped_names.push_back(column_label(schema, j));
    else
      kept_.push_back(j);
  }
  if (kept_.empty())
    throw DataError(fmt::format(
        "drop_constant: every column is constant over the training rows ({}); nothing is left "
        "for the detector",
        fmt::join(dropped_names, ", ")));
  if (!dropped_names.empty())
    context.log.info("drop_constant: dropped {} constant column{}: {}", dropped_names.size(),
                     dropped_names.size() > 1 ? "s" : "", fmt::join(dropped_names, ", "));
}

void DropConstant::apply(const RowBlock& block, std::span<const double>,
                         std::vector<double>& out) const {
  const std::size_t k = kept_.size();
  out.resize(static_cast<std::size_t>(block.n_rows) * k);
  for (Index i = 0; i < block.n_rows; ++i) {
    const auto row = block.row(i);
    for (std::size_t c = 0; c < k; ++c) out[i * k + c] = row[kept_[c]];
  }
}

ModelState DropConstant::save_state() const {
  ModelState state;
  state.integers["kept"].assign(kept_.begin(), kept_.end());
  return state;
}

void DropConstant::load_state(const Schema& input, const ModelState& state) {
  const auto& kept = state.integer("kept");
  auto candidates = stored_columns(params_, input, type(), state).columns;
  std::sort(candidates.begin(), candidates.end());
  if (kept.empty()) throw DataError(fmt::format("{}: drop_constant keeps no column", state.where));
  for (std::size_t c = 0; c < kept.size(); ++c)
    if (kept[c] < 0 || kept[c] >= input.n_features || (c > 0 && kept[c] <= kept[c - 1]))
      throw DataError(fmt::format("{}: drop_constant kept columns must increase within [0, {})",
                                  state.where, input.n_features));
  // Only selected columns may have been dropped.
  for (Index j = 0; j < input.n_features; ++j)
    if (!std::binary_search(kept.begin(), kept.end(), j) &&
        !std::binary_search(candidates.begin(), candidates.end(), j))
      throw DataError(fmt::format("{}: drop_constant drops column {}, which is not selected",
                                  state.where, column_label(input, j)));
  kept_.assign(kept.begin(), kept.end());
}

}  // namespace hpcad
