#pragma once
/// What every fit shares: the context (Comm, log) and the two ways to learn from a
/// RowSource — a pass of mergeable statistics combined by one reduction (accumulate), or a
/// sample gathered by global row index (gather_rows in data/row_source.hpp).
#include <cstdint>
#include <functional>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/exact_sum.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/row_source.hpp"

namespace hpcad {

/// Passed to every fit.
struct FitContext {
  Comm& comm;
  const Log& log;
};

/// Unnormalised statistics that merge by addition (exact sums, counts) or by min / max, so
/// that every rank's partial statistics combine into the same global ones for any rank
/// count and any blocking.
struct Statistics {
  std::vector<ExactSum> sums;
  std::vector<std::int64_t> counts;
  std::vector<double> minima;  ///< start at +inf
  std::vector<double> maxima;  ///< start at -inf

  Statistics(std::size_t n_sums, std::size_t n_counts, std::size_t n_extrema = 0);
  /// Collective. Replaces every rank's statistics with the global ones.
  void reduce(Comm& comm);
};

/// Collective. One pass over `source`: `add(block, stats)` for every block of this rank,
/// then one reduction. Iterative models call it once per iteration.
void accumulate(RowSource& source, Statistics& stats,
                const std::function<void(const RowBlock&, Statistics&)>& add);

}  // namespace hpcad
