#pragma once
/// The run report (JSON) and per-phase timings reduced over ranks.
#include <optional>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/eval/metrics.hpp"
#include "hpcad/model/provenance.hpp"

namespace hpcad {

/// Wall time per named phase on this rank, in the order phases first ran.
class PhaseTimer {
 public:
  void add(const std::string& phase, double seconds);
  const std::vector<std::pair<std::string, double>>& local() const { return seconds_; }

 private:
  std::vector<std::pair<std::string, double>> seconds_;
};

struct PhaseTiming {
  std::string phase;
  double min = 0, mean = 0, max = 0;
};

/// Collective. Min/mean/max of each phase over ranks (every rank ran the same phases).
std::vector<PhaseTiming> reduce_timings(Comm& comm, const PhaseTimer& timer);

/// Memory per rank: the budget, which ranks cached their rows, peak RSS over ranks.
struct MemoryReport {
  std::int64_t budget_bytes = 0;
  std::string budget_origin;
  std::vector<char> rank_modes;  ///< per rank: 'c' rows cached in memory, 's' streamed
  double peak_rss_min = 0, peak_rss_mean = 0, peak_rss_max = 0;  ///< bytes
};

struct JobReport {
  Provenance provenance;  ///< command, input, ranks, time, job id, config hash
  std::string config_path;
  std::string detector;
  Index rows = 0;
  Index features = 0;
  Index anomalies = 0;
  double threshold = 0;
  std::optional<double> contamination;
  double achieved_fraction = 0;
  Index skipped_rows = 0;
  Index imputed_values = 0;
  std::string model_path;
  std::string model_sha256;
  std::string scores_path;
  std::vector<PhaseTiming> phases;
  std::optional<BinaryMetrics> metrics;
  MemoryReport memory;
};

std::string to_json(const JobReport& report);

}  // namespace hpcad
