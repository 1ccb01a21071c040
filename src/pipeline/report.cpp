#include "hpcad/pipeline/report.hpp"

#include <fmt/format.h>

#include <cmath>

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

namespace {

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += c;
    }
  }
  return out + "\"";
}

/// JSON has no NaN/Inf: those become null. Shortest round-trip representation otherwise.
std::string number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : "null";
}

}  // namespace

std::string to_json(const JobReport& r) {
  std::string json = "{\n";
  json += fmt::format("  \"hpcad_version\": {},\n", quote(HPCAD_VERSION));
  json += fmt::format("  \"command\": {},\n", quote(r.command));
  json += fmt::format("  \"created\": {},\n", quote(r.created));
  json += fmt::format("  \"config\": {},\n", quote(r.config_path));
  json += fmt::format("  \"input\": {},\n", quote(r.input_path));
  json += fmt::format("  \"detector\": {},\n", quote(r.detector));
  json += fmt::format("  \"ranks\": {},\n", r.ranks);
  json += fmt::format("  \"rows\": {},\n", r.rows);
  json += fmt::format("  \"features\": {},\n", r.features);
  json += fmt::format("  \"anomalies\": {},\n", r.anomalies);
  json += fmt::format("  \"threshold\": {},\n", number(r.threshold));
  json += fmt::format("  \"contamination\": {},\n",
                      r.contamination ? number(*r.contamination) : "null");
  json += fmt::format("  \"achieved_fraction\": {},\n", number(r.achieved_fraction));
  json += fmt::format("  \"skipped_rows\": {},\n", r.skipped_rows);
  json += fmt::format("  \"imputed_values\": {},\n", r.imputed_values);
  json += fmt::format("  \"model\": {},\n", quote(r.model_path));
  json += fmt::format("  \"model_sha256\": {},\n", quote(r.model_sha256));
  json += fmt::format("  \"scores\": {},\n", quote(r.scores_path));
  json += "  \"phases\": {";
  for (std::size_t i = 0; i < r.phases.size(); ++i) {
    const auto& p = r.phases[i];
    json += fmt::format("{}\n    {}: {{\"min\": {}, \"mean\": {}, \"max\": {}}}", i ? "," : "",
                        quote(p.phase), number(p.min), number(p.mean), number(p.max));
  }
  json += r.phases.empty() ? "},\n" : "\n  },\n";
  if (r.metrics) {
    const BinaryMetrics& m = *r.metrics;
    json += fmt::format(
        "  \"metrics\": {{\"positives\": {}, \"negatives\": {}, \"roc_auc\": {}, \"pr_auc\": {}, "
        "\"precision\": {}, \"recall\": {}, \"f1\": {}, \"true_positives\": {}, "
        "\"false_positives\": {}}}\n",
        m.positives, m.negatives, number(m.roc_auc), number(m.pr_auc), number(m.precision),
        number(m.recall), number(m.f1), m.true_positives, m.false_positives);
  } else {
    json += "  \"metrics\": null\n";
  }
  return json + "}\n";
}

}  // namespace hpcad
