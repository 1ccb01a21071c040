#include "hpcad/detectors/fit.hpp"

#include <limits>

namespace hpcad {

Statistics::Statistics(std::size_t n_sums, std::size_t n_counts, std::size_t n_extrema)
    : sums(n_sums),
      counts(n_counts, 0),
      minima(n_extrema, std::numeric_limits<double>::infinity()),
      maxima(n_extrema, -std::numeric_limits<double>::infinity()) {}

void Statistics::reduce(Comm& comm) {
  allreduce_exact(comm, sums);
  if (!counts.empty()) comm.allreduce(counts, ReduceOp::kSum);
  if (!minima.empty()) {
    // One reduction for both extrema: max(x) = -min(-x).
    std::vector<double> both(minima);
    for (double x : maxima) both.push_back(-x);
    comm.allreduce(both, ReduceOp::kMin);
    for (std::size_t j = 0; j < minima.size(); ++j) {
      minima[j] = both[j];
      maxima[j] = -both[minima.size() + j];
    }
  }
}

void accumulate(RowSource& source, Statistics& stats,
                const std::function<void(const RowBlock&, Statistics&)>& add) {
  source.rewind();
  RowBlock block;
  while (source.next(block))
    if (!block.empty()) add(block, stats);
  stats.reduce(source.comm());
}

}  // namespace hpcad
