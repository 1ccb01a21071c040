#pragma once
/// What the gradient-trained detectors (ocsvm, autoencoder) share: global column scaling
/// (ColumnScaling, moments.hpp), a training sample drawn by global row index whose rows stay with
/// the ranks that hold them, minibatches drawn as positions in that sample from a counter-based
/// stream, and exact sums of per-row gradient terms across ranks.
///
/// Why the model does not depend on the rank count: a minibatch is the same list of sample
/// positions on every rank; each rank computes the terms of the rows it holds (the same
/// arithmetic whichever rank does it) and adds them into ExactSums; one exact reduction gives
/// every rank the same correctly rounded totals, so every rank applies the same update.
#include <functional>
#include <span>
#include <vector>

#include "hpcad/core/rng.hpp"
#include "hpcad/detectors/fit.hpp"
#include "hpcad/detectors/model_state.hpp"
#include "hpcad/detectors/moments.hpp"
#include "hpcad/detectors/params.hpp"

namespace hpcad {

/// The `seed` and `standardize` parameters every gradient-trained detector has, and the
/// minibatch ones (batch_size, epochs, max_samples).
std::vector<ParamSpec> minibatch_param_specs(std::int64_t default_epochs,
                                             std::int64_t default_batch_size,
                                             std::int64_t default_max_samples);

/// Rows of the table at sorted global indices, each held (mapped to `width` values, e.g.
/// scaled) only by the rank whose slab contains it. Positions index the sample: position p
/// is the p-th smallest sampled row on every rank.
class SampleShard {
 public:
  using RowMap = std::function<void(std::span<const double> x, double* out)>;
  /// Collective: one pass over `source`.
  SampleShard(RowSource& source, std::vector<Index> rows, Index width, const RowMap& map);

  /// Local. Rows in the whole sample (over all ranks).
  Index size() const { return static_cast<Index>(rows_.size()); }
  Index width() const { return width_; }
  /// Local. The mapped row at `position`, or nullptr when another rank holds it.
  const double* row(Index position) const {
    const Index local = position - first_;
    return local >= 0 && local < held_ ? values_.data() + local * width_ : nullptr;
  }

 private:
  std::vector<Index> rows_;
  Index width_;
  Index first_ = 0;  ///< position of this rank's first held row
  Index held_ = 0;
  std::vector<double> values_;  ///< held rows, mapped, row-major
};

/// Local. 0..n-1 in a random order (Fisher-Yates) drawn from `rng`.
std::vector<Index> shuffled_positions(Index n, RandomStream& rng);

/// Computes the n_terms terms of one held sample row (already mapped) into `out`.
using RowTerms = std::function<void(const double* row, std::span<double> out)>;

/// Collective. The exact sums over the sample rows at `positions` of their terms, each row's
/// terms computed by the rank holding it; correctly rounded, the same on every rank. Called
/// equally often on every rank with the same positions.
std::vector<double> sum_row_terms(Comm& comm, const SampleShard& shard,
                                  std::span<const Index> positions, std::size_t n_terms,
                                  const RowTerms& terms);

}  // namespace hpcad
