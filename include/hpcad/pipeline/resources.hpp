#pragma once
/// The job's resources: the memory budget per rank, peak memory, and progress of passes.
#include <chrono>
#include <cstdint>
#include <string>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/row_source.hpp"

namespace hpcad {

/// Bytes each rank may use, and where the number came from.
struct MemoryBudget {
  std::int64_t bytes = 0;
  std::string origin;  ///< e.g. "run.memory_per_rank", "SLURM_MEM_PER_CPU", "MemAvailable"
};

/// Collective. Resolves run.memory_per_rank: an explicit size, or for "auto" Slurm's
/// SLURM_MEM_PER_CPU (x SLURM_CPUS_PER_TASK) or SLURM_MEM_PER_NODE / ranks on this node
/// where set, else 80% of the node's MemAvailable / ranks on this node.
MemoryBudget resolve_memory_budget(Comm& comm, const std::string& memory_per_rank);

/// Local. This process's peak resident set size in bytes (VmHWM), 0 if unknown.
std::int64_t peak_rss_bytes();

/// Prints the progress of a pass on rank 0 every few seconds: rows over all ranks, rate and
/// estimated time left.
class PassProgress final : public ProgressSink {
 public:
  PassProgress(const Log& log, std::string phase);
  void update(Index rows_done, Index rows_total) override;
  /// Starts counting a new pass (phase name, e.g. "fit pass 2").
  void start(std::string phase);

 private:
  const Log& log_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_;
  Index last_done_ = 0;
};

}  // namespace hpcad
