#include "hpcad/features/impute.hpp"

#include <fmt/format.h>

#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {

std::vector<ParamSpec> Impute::param_specs() {
  return {ParamSpec::string("strategy", "mean", {"mean"},
                            "statistic of the training rows' finite values per column")};
}

void Impute::fit(FitContext& context, RowSource& input) {
  const Index d = input.n_features();
  // Per column: exact sum and count of the finite values.
  Statistics stats(static_cast<std::size_t>(d), static_cast<std::size_t>(d));
  accumulate(input, stats, [d](const RowBlock& block, Statistics& s) {
    for (Index i = 0; i < block.n_rows; ++i) {
      const auto row = block.row(i);
      for (Index j = 0; j < d; ++j)
        if (std::isfinite(row[j])) {
          s.sums[j].add(row[j]);
          ++s.counts[j];
        }
    }
  });
  fill_.assign(static_cast<std::size_t>(d), 0.0);
  const auto& names = input.info().schema.feature_names;
  for (Index j = 0; j < d; ++j) {
    if (stats.counts[j] == 0)
      throw DataError(fmt::format("impute: column {} has no finite value to compute a mean from",
                                  j < static_cast<Index>(names.size())
                                      ? fmt::format("'{}'", names[j])
                                      : std::to_string(j)));
    fill_[j] = stats.sums[j].value() / static_cast<double>(stats.counts[j]);
  }
  context.log.debug("impute: fill values computed from {} rows", input.global_rows());
}

void Impute::apply(const RowBlock& block, std::span<const double>, std::vector<double>& out) const {
  out.assign(block.values.begin(), block.values.end());
  const std::size_t d = fill_.size();
  for (std::size_t k = 0; k < out.size(); ++k)
    if (!std::isfinite(out[k])) out[k] = fill_[k % d];
}

ModelState Impute::save_state() const {
  ModelState state;
  state.reals["fill"] = fill_;
  return state;
}

void Impute::load_state(const Schema& input, const ModelState& state) {
  const auto& fill = state.real("fill", static_cast<std::size_t>(input.n_features));
  for (std::size_t j = 0; j < fill.size(); ++j)
    if (!std::isfinite(fill[j]))
      throw DataError(fmt::format("{}: impute fill value {} is not finite", state.where, j));
  fill_ = fill;
}

}  // namespace hpcad
