#include "hpcad/detectors/minibatch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

std::vector<ParamSpec> minibatch_param_specs(std::int64_t default_epochs,
                                             std::int64_t default_batch_size,
                                             std::int64_t default_max_samples) {
  return {
      ParamSpec::integer("epochs", default_epochs, 1, 1'000'000,
                         "passes over the training sample (in minibatches)"),
      ParamSpec::integer("batch_size", default_batch_size, 1, 1 << 24,
                         "rows per minibatch, drawn by position in the training sample, so "
                         "the same rows for any rank count"),
      ParamSpec::integer("max_samples", default_max_samples, 1, 1'000'000'000,
                         "training rows drawn without replacement by global row index (capped "
                         "at the rows); each rank keeps the ones it holds"),
      ParamSpec::boolean("standardize", true,
                         "scale columns to zero mean and unit variance first (exact global "
                         "moments, stored in the model)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed; the same seed gives a bitwise-identical model for any "
                         "rank count"),
  };
}

SampleShard::SampleShard(RowSource& source, std::vector<Index> rows, Index width, const RowMap& map)
    : rows_(std::move(rows)), width_(width) {
  const Index d = source.n_features();
  const std::vector<double> raw = gather_local_rows(source, rows_);
  held_ = static_cast<Index>(raw.size()) / std::max<Index>(d, 1);
  first_ = std::lower_bound(rows_.begin(), rows_.end(), source.local_begin()) - rows_.begin();
  values_.resize(static_cast<std::size_t>(held_ * width_));
  for (Index i = 0; i < held_; ++i)
    map(std::span(raw).subspan(static_cast<std::size_t>(i * d), static_cast<std::size_t>(d)),
        values_.data() + i * width_);
}

std::vector<Index> shuffled_positions(Index n, RandomStream& rng) {
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[i] = i;
  for (Index i = n - 1; i > 0; --i)
    std::swap(order[i], order[static_cast<Index>(rng.below(static_cast<std::uint64_t>(i + 1)))]);
  return order;
}

std::vector<double> sum_row_terms(Comm& comm, const SampleShard& shard,
                                  std::span<const Index> positions, std::size_t n_terms,
                                  const RowTerms& terms) {
  std::vector<ExactSum> sums(n_terms);
  std::vector<double> row_terms(n_terms);
  for (const Index position : positions)
    if (const double* row = shard.row(position)) {
      terms(row, row_terms);
      for (std::size_t k = 0; k < n_terms; ++k)
        if (row_terms[k] != 0) sums[k].add(row_terms[k]);
    }
  return exact_global_sums(comm, sums);
}

}  // namespace hpcad
