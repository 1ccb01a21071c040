#pragma once
// Fitting and scoring detectors on in-memory rows in tests.
#include <span>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/data/row_source.hpp"
#include "hpcad/detectors/detector.hpp"

namespace hpcad::testing_support {

/// `rows` x `d` standard normal values drawn from `seed`.
inline RowSlab gaussian_slab(Index rows, Index d, std::uint64_t seed) {
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  RandomStream rng(seed, "test.data", 0);
  for (Index i = 0; i < rows * d; ++i) slab.values.push_back(rng.normal());
  return slab;
}

/// Collective. Fits `detector` on this rank's `slab`, read in blocks of `block_rows`.
inline void fit_slab(Detector& detector, const RowSlab& slab, Comm& comm, Index block_rows = 1000) {
  const auto source = make_memory_source(comm, slab, block_rows);
  const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
  FitContext context{comm, quiet};
  detector.fit(context, *source);
}

/// Rank `rank`'s contiguous share of `whole` among `ranks` ranks (partition_rows), as in a job.
inline RowSlab rank_share(const RowSlab& whole, int ranks, int rank) {
  const IndexRange mine = partition_rows(whole.global_rows, ranks, rank);
  const Index d = whole.n_features();
  RowSlab slab = whole;
  slab.global_begin = mine.begin;
  slab.values.assign(whole.values.begin() + mine.begin * d, whole.values.begin() + mine.end * d);
  return slab;
}

/// Rows [begin, begin + rows) of `slab` as a block (rows < 0: to the end).
inline RowBlock block_of(const RowSlab& slab, Index begin = 0, Index rows = -1) {
  if (rows < 0) rows = slab.n_rows() - begin;
  const Index d = slab.n_features();
  RowBlock block;
  block.global_begin = slab.global_begin + begin;
  block.n_rows = rows;
  block.n_features = d;
  block.values = std::span(slab.values).subspan(begin * d, rows * d);
  return block;
}

/// The scores of every row of `slab`.
inline std::vector<double> score_slab(const Detector& detector, const RowSlab& slab) {
  std::vector<double> scores(static_cast<std::size_t>(slab.n_rows()));
  detector.score(block_of(slab), scores);
  return scores;
}

}  // namespace hpcad::testing_support
