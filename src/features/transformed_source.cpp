#include "hpcad/features/transformed_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {
TransformedSource::TransformedSource(RowSource& input, std::vector<const Transform*> steps,
                                     std::string input_name, bool reject_non_finite)
    : input_(input),
      steps_(std::move(steps)),
      input_name_(std::move(input_name)),
      reject_non_finite_(reject_non_finite),
      info_(input.info()) {
  schemas_.push_back(info_.schema);
  for (const Transform* step : steps_) {
    // Rows before a rank's first row live on lower ranks; the halo exchange that brings
    // them arrives with the windowed feature steps. Until then refuse rather than compute
    // windows that silently restart at every rank boundary.
    if (step->history_rows() > 0 && input.comm().size() > 1)
      throw InternalError(
          fmt::format("transform '{}' needs rows of history across ranks", step->type()));
    schemas_.push_back(step->output_schema(schemas_.back()));
  }
  info_.schema = schemas_.back();
  history_.resize(steps_.size());
  buffers_.resize(steps_.size());
}

void TransformedSource::rewind() {
  input_.rewind();
  for (auto& h : history_) h.clear();
  non_finite_inputs_ = 0;
}

bool TransformedSource::next(RowBlock& block) {
  RowBlock raw;
  if (!input_.next(raw)) return false;
  // Transforms and checks may throw on one rank only: agree before the next collective.
  guarded_phase(comm(), "transform", [&] { transform(raw, block); });
  return true;
}

void TransformedSource::transform(const RowBlock& raw, RowBlock& block) {
  if (!steps_.empty())
    non_finite_inputs_ += std::count_if(raw.values.begin(), raw.values.end(),
                                        [](double x) { return !std::isfinite(x); });
  block = raw;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const Index width = schemas_[s].n_features;
    steps_[s]->apply(block, history_[s], buffers_[s]);
    // Keep this step's last history_rows() input rows for the next block.
    if (const Index keep = steps_[s]->history_rows(); keep > 0) {
      auto& h = history_[s];
      h.insert(h.end(), block.values.begin(), block.values.end());
      const auto excess = static_cast<Index>(h.size()) - keep * width;
      if (excess > 0) h.erase(h.begin(), h.begin() + excess);
    }
    block.n_features = schemas_[s + 1].n_features;
    block.values = buffers_[s];
  }
  if (!reject_non_finite_) return;
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (Index j = 0; j < d; ++j)
      if (const double x = block.values[i * d + j]; !std::isfinite(x))
        throw DataError(fmt::format(
            "{}: row {}, column {}: value is {} (set input.nan_policy = \"impute\" to replace "
            "non-finite values with the training rows' column mean)",
            input_name_, block.global_begin + i, column_label(info_.schema, j), x));
}

}  // namespace hpcad
