#include "hpcad/pipeline/report.hpp"

#include <nlohmann/json.hpp>

namespace hpcad {

void PhaseTimer::add(const std::string& phase, double seconds) {
  for (auto& [name, total] : seconds_)
    if (name == phase) {
      total += seconds;
      return;
    }
  seconds_.emplace_back(phase, seconds);
}

std::vector<PhaseTiming> reduce_timings(Comm& comm, const PhaseTimer& timer) {
  const auto& local = timer.local();
  std::vector<double> min, max, sum;
  for (const auto& [name, seconds] : local) {
    min.push_back(seconds);
    max.push_back(seconds);
    sum.push_back(seconds);
  }
  comm.allreduce(min, ReduceOp::kMin);
  comm.allreduce(max, ReduceOp::kMax);
  comm.allreduce(sum, ReduceOp::kSum);
  std::vector<PhaseTiming> timings;
  for (std::size_t i = 0; i < local.size(); ++i)
    timings.push_back({local[i].first, min[i], sum[i] / comm.size(), max[i]});
  return timings;
}

std::string to_json(const JobReport& r) {
  // ordered_json keeps the keys in the order written here. nlohmann writes the shortest
  // representation that round-trips, and null for NaN and infinities (JSON has neither).
  nlohmann::ordered_json json = {
      {"hpcad_version", r.provenance.hpcad_version},
      {"command", r.provenance.command},
      {"created", r.provenance.created},
      {"job_id", r.provenance.job_id},
      {"config", r.config_path},
      {"config_sha256", r.provenance.config_sha256},
      {"input", r.provenance.input_path},
      {"detector", r.detector},
      {"ranks", r.provenance.ranks},
      {"rows", r.rows},
      {"features", r.features},
      {"anomalies", r.anomalies},
      {"threshold", r.threshold},
      {"contamination", r.contamination ? nlohmann::ordered_json(*r.contamination) : nullptr},
      {"achieved_fraction", r.achieved_fraction},
      {"skipped_rows", r.skipped_rows},
      {"imputed_values", r.imputed_values},
      {"model", r.model_path},
      {"model_sha256", r.model_sha256},
      {"scores", r.scores_path},
  };
  auto& phases = json["phases"] = nlohmann::ordered_json::object();
  for (const PhaseTiming& p : r.phases)
    phases[p.phase] = {{"min", p.min}, {"mean", p.mean}, {"max", p.max}};
  json["metrics"] = nullptr;
  if (r.metrics) {
    const BinaryMetrics& m = *r.metrics;
    json["metrics"] = {{"positives", m.positives},
                       {"negatives", m.negatives},
                       {"roc_auc", m.roc_auc},
                       {"pr_auc", m.pr_auc},
                       {"precision", m.precision},
                       {"recall", m.recall},
                       {"f1", m.f1},
                       {"true_positives", m.true_positives},
                       {"false_positives", m.false_positives}};
  }
  const MemoryReport& memory = r.memory;
  auto& modes = json["memory"]["rank_modes"] = nlohmann::ordered_json::array();
  for (const char mode : memory.rank_modes) modes.push_back(mode == 'c' ? "memory" : "streamed");
  json["memory"]["budget_bytes"] = memory.budget_bytes;
  json["memory"]["budget_origin"] = memory.budget_origin;
  json["memory"]["peak_rss"] = {
      {"min", memory.peak_rss_min}, {"mean", memory.peak_rss_mean}, {"max", memory.peak_rss_max}};
  // Paths are bytes, not necessarily UTF-8: replace invalid sequences instead of throwing.
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace hpcad
