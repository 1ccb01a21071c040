#include "hpcad/features/column_steps.hpp"

#include <algorithm>
#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {

Schema Log1p::output_schema(const Schema& input) const {
  resolve_step_columns(type(), params_, input);  // names a missing column
  return input;
}

void Log1p::apply(const RowBlock& block, std::span<const double>, std::vector<double>& out) const {
  out.assign(block.values.begin(), block.values.end());
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (const Index j : columns_.columns) out[i * d + j] = std::log1p(out[i * d + j]);
}

std::vector<Index> Drop::kept(const StepColumns& dropped, Index n_features) {
  std::vector<Index> kept;
  for (Index j = 0; j < n_features; ++j)
    if (std::find(dropped.columns.begin(), dropped.columns.end(), j) == dropped.columns.end())
      kept.push_back(j);
  return kept;
}

Schema Drop::output_schema(const Schema& input) const {
  // Without `columns`, "all but the keys" would drop every feature.
  if (params_.strings("columns").empty())
    throw ConfigError("drop: columns must name the columns to drop");
  Schema out;
  for (const Index j : kept(resolve_step_columns(type(), params_, input), input.n_features))
    out.feature_names.push_back(feature_name(input, j));
  out.n_features = static_cast<Index>(out.feature_names.size());
  return out;
}

void Drop::apply(const RowBlock& block, std::span<const double>, std::vector<double>& out) const {
  const std::vector<Index> columns = kept(columns_, block.n_features);
  const auto width = static_cast<Index>(columns.size());
  out.resize(static_cast<std::size_t>(block.n_rows * width));
  for (Index i = 0; i < block.n_rows; ++i)
    for (Index k = 0; k < width; ++k) out[i * width + k] = block.row(i)[columns[k]];
}

}  // namespace hpcad
