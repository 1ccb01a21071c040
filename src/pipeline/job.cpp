#include "hpcad/pipeline/job.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "hpcad/core/error.hpp"
#include "hpcad/core/sha256.hpp"
#include "hpcad/detectors/detector.hpp"
#include "hpcad/eval/metrics.hpp"
#include "hpcad/eval/threshold.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/input.hpp"
#include "hpcad/io/model_file.hpp"
#include "hpcad/io/output_path.hpp"
#include "hpcad/io/score_writer.hpp"
#include "hpcad/pipeline/config.hpp"
#include "hpcad/pipeline/report.hpp"

namespace hpcad {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

const char* command_name(JobKind kind) {
  switch (kind) {
    case JobKind::kRun:
      return "run";
    case JobKind::kTrain:
      return "train";
    case JobKind::kScore:
      return "score";
  }
  return "";
}

/// Runs a guarded phase and records its wall time on this rank.
void timed_phase(Comm& comm, PhaseTimer& timer, const std::string& phase,
                 const std::function<void()>& body) {
  const auto start = Clock::now();
  guarded_phase(comm, phase, body);
  timer.add(phase, seconds_since(start));
}

LogLevel parse_level(const std::string& level) {
  return level == "quiet"   ? LogLevel::kQuiet
         : level == "debug" ? LogLevel::kDebug
                            : LogLevel::kInfo;
}

/// Temporary outputs of this job: removed on failure, renamed together on success, so a
/// failed job leaves nothing at any final path.
class PendingOutputs {
 public:
  explicit PendingOutputs(bool owner) : owner_(owner) {}
  ~PendingOutputs() {
    if (owner_)
      for (const auto& [temporary, final_path] : files_) discard_output(temporary);
  }
  void add(std::string temporary, std::string final_path) {
    files_.emplace_back(std::move(temporary), std::move(final_path));
  }
  void commit() {
    if (owner_)
      for (const auto& [temporary, final_path] : files_) commit_output(temporary, final_path);
    files_.clear();
  }

 private:
  bool owner_;
  std::vector<std::pair<std::string, std::string>> files_;
};

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw IoError(fmt::format("{}: write failed", path));
}

}  // namespace

std::string agree_job_id(Comm& comm) {
  std::string id;
  if (comm.rank() == 0) {
    const char* slurm = std::getenv("SLURM_JOB_ID");
    id = slurm && *slurm ? std::string(slurm) : std::to_string(::getpid());
  }
  return comm.broadcast_string(id, 0);
}

std::string run_job(Comm& comm, const JobRequest& request) {
  const bool root = comm.rank() == 0;
  PhaseTimer timer;
  const std::string job_id = agree_job_id(comm);
  const std::string created = comm.broadcast_string(root ? utc_now() : "", 0);

  // Rank 0 reads the file; every rank parses the same text, so all agree on the result.
  std::string text;
  timed_phase(comm, timer, "config", [&] {
    if (root) {
      std::ifstream in(request.config_path, std::ios::binary);
      if (!in) throw IoError(fmt::format("{}: cannot open the config file", request.config_path));
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
  });
  text = comm.broadcast_string(text, 0);
  Config config;
  timed_phase(comm, timer, "config", [&] {
    config = parse_config(text, request.config_path, request.overrides, request.working_directory);
    if (request.kind == JobKind::kTrain && config.model_path.empty())
      throw ConfigError(
          fmt::format("{}: output.model is empty; hpcad train needs a model file to write",
                      request.config_path));
  });
  const Log log(comm.rank(), comm.size(), parse_level(config.log_level));
  const bool writes_scores = request.kind != JobKind::kTrain;
  const bool writes_model = request.kind != JobKind::kScore && !config.model_path.empty();
  const bool writes_report = request.kind != JobKind::kTrain && !config.report_path.empty();
  log.info("{} on {} rank{}: input {}", command_name(request.kind), comm.size(),
           comm.size() > 1 ? "s" : "", config.input.path);

  // Fail fast, before any expensive work, on outputs that cannot be written.
  timed_phase(comm, timer, "prepare", [&] {
    std::vector<std::pair<std::string, std::string>> outputs;
    if (writes_scores) outputs.emplace_back("output.path", config.output_path);
    if (writes_model) outputs.emplace_back("output.model", config.model_path);
    if (writes_report) outputs.emplace_back("output.report", config.report_path);
    for (const auto& [key, path] : outputs) {
      refuse_overwriting_input(path, key, config.input.path);
      if (request.kind == JobKind::kScore) refuse_overwriting_input(path, key, request.model_path);
      if (root) prepare_output_directory(path, key);
    }
  });

  // score: rank 0 reads the model file, every rank validates the same bytes.
  std::unique_ptr<Detector> detector;
  ModelFile model;
  std::string model_sha256;
  if (request.kind == JobKind::kScore) {
    std::vector<std::byte> image;
    timed_phase(comm, timer, "model", [&] {
      if (root) image = read_file_bytes(request.model_path);
    });
    comm.broadcast(image, 0);
    timed_phase(comm, timer, "model", [&] {
      Sha256 hash;
      hash.update(image);
      model_sha256 = hash.hex_digest();
      model = read_model_file(image, request.model_path);
      detector = make_detector(model.detector, model.params);
      detector->load_state(model.n_features, model.state);
    });
    log.info("model {}: {} with {} features (sha256 {})", request.model_path, model.detector,
             model.n_features, model_sha256.substr(0, 12));
  } else {
    timed_phase(comm, timer, "model",
                [&] { detector = make_detector(config.detector_type, config.detector_params); });
  }

  InputStats input_stats;
  RowSlab slab;
  const auto read_start = Clock::now();
  slab = read_input(comm, config.input, &input_stats);
  timer.add("read", seconds_since(read_start));
  const double read_seconds = timer.local().back().second;
  const double megabytes = static_cast<double>(slab.global_rows * slab.n_features()) * 8e-6;
  log.info("read {} rows x {} features ({:.1f} MB) in {:.2f}s ({:.0f} MB/s)", slab.global_rows,
           slab.n_features(), megabytes, read_seconds,
           read_seconds > 0 ? megabytes / read_seconds : 0.0);
  if (input_stats.skipped_rows > 0)
    log.info("skipped {} malformed rows (input.skip_bad_rows = true)", input_stats.skipped_rows);
  if (input_stats.imputed_values > 0)
    log.info("imputed {} non-finite values with column means", input_stats.imputed_values);

  if (request.kind == JobKind::kScore) {
    timed_phase(comm, timer, "validate", [&] {
      if (slab.n_features() != model.n_features)
        throw DataError(fmt::format("{}: the model expects {} features but input {} has {}",
                                    request.model_path, model.n_features, config.input.path,
                                    slab.n_features()));
      if (!model.feature_names.empty() && !slab.schema.feature_names.empty() &&
          model.feature_names != slab.schema.feature_names)
        throw DataError(fmt::format(
            "{}: the model's feature names ({}) differ from the input's ({})", request.model_path,
            fmt::join(model.feature_names, ", "), fmt::join(slab.schema.feature_names, ", ")));
    });
  } else {
    const auto fit_start = Clock::now();
    timed_phase(comm, timer, "fit", [&] { detector->fit(comm, slab, log); });
    const double fit_seconds = seconds_since(fit_start);
    log.info("fit {} on {} rows in {:.2f}s ({:.2f} M rows/s)", detector->type(), slab.global_rows,
             fit_seconds,
             fit_seconds > 0 ? static_cast<double>(slab.global_rows) / fit_seconds * 1e-6 : 0.0);
  }

  PendingOutputs pending(root);
  JobReport report;
  report.command = command_name(request.kind);
  report.config_path = request.config_path;
  report.input_path = config.input.path;
  report.detector = detector->type();
  report.ranks = comm.size();
  report.rows = slab.global_rows;
  report.features = slab.n_features();
  report.created = created;
  report.imputed_values = input_stats.imputed_values;
  report.skipped_rows = input_stats.skipped_rows;

  if (writes_model) {
    const std::string temporary = temporary_path(config.model_path, job_id);
    pending.add(temporary, config.model_path);
    timed_phase(comm, timer, "write", [&] {
      if (!root) return;
      ModelFile out;
      out.detector = detector->type();
      out.params = detector->params();
      out.n_features = detector->n_features();
      out.feature_names = slab.schema.feature_names;
      out.state = detector->save_state();
      out.input_path = config.input.path;
      out.training_rows = slab.global_rows;
      out.ranks = comm.size();
      out.created = created;
      out.config_sha256 = sha256_hex(config.provenance_text());
      write_model_file(temporary, out);
      Sha256 hash;
      hash.update(read_file_bytes(temporary));
      model_sha256 = hash.hex_digest();
    });
    model_sha256 = comm.broadcast_string(model_sha256, 0);
    report.model_path = config.model_path;
    log.info("model written: {} (sha256 {})", config.model_path, model_sha256.substr(0, 12));
  }
  report.model_sha256 = model_sha256;

  std::string summary;
  if (writes_scores) {
    // Score block by block: memory beyond the slab stays bounded by the block size.
    std::vector<double> scores(static_cast<std::size_t>(slab.n_rows()));
    const auto score_start = Clock::now();
    timed_phase(comm, timer, "score", [&] {
      const Index block = config.score_block_rows;
      const Index d = slab.n_features();
      auto last_report = Clock::now();
      for (Index begin = 0; begin < slab.n_rows(); begin += block) {
        const Index rows = std::min(block, slab.n_rows() - begin);
        detector->score(std::span(slab.values).subspan(begin * d, rows * d),
                        std::span(scores).subspan(begin, rows));
        if (root && Clock::now() - last_report > std::chrono::seconds(5)) {
          const double seconds = seconds_since(score_start);
          log.info("score: {:.0f}% of rank 0's rows, {:.2f} M rows/s per rank",
                   100.0 * (begin + rows) / slab.n_rows(), (begin + rows) / seconds * 1e-6);
          last_report = Clock::now();
        }
      }
    });
    const double score_seconds = seconds_since(score_start);
    log.info("scored {} rows in {:.2f}s ({:.2f} M rows/s per rank)", slab.global_rows,
             score_seconds, score_seconds > 0 ? slab.n_rows() / score_seconds * 1e-6 : 0.0);

    ThresholdResult threshold;
    timed_phase(comm, timer, "threshold", [&] {
      threshold = config.contamination
                      ? contamination_threshold(comm, scores, *config.contamination)
                      : fixed_threshold(comm, scores, *config.score_threshold);
    });
    report.threshold = threshold.threshold;
    report.contamination = config.contamination;
    report.anomalies = threshold.flagged;
    report.achieved_fraction = threshold.achieved_fraction();
    log.info("threshold {:.6f}: {} anomalies ({:.4f}% of rows)", threshold.threshold,
             threshold.flagged, 100 * threshold.achieved_fraction());

    if (slab.has_labels) {
      timed_phase(comm, timer, "evaluate", [&] {
        report.metrics = evaluate_scores(comm, scores, slab.labels, threshold.threshold);
      });
    }

    const std::string temporary = temporary_path(config.output_path, job_id);
    pending.add(temporary, config.output_path);
    report.scores_path = config.output_path;
    ScoreFileInfo info;
    info.threshold = threshold.threshold;
    info.contamination = config.contamination.value_or(std::nan(""));
    info.achieved_fraction = threshold.achieved_fraction();
    info.flagged = threshold.flagged;
    info.model_sha256 = model_sha256;
    info.config_text = config.provenance_text();
    info.input_path = config.input.path;
    info.detector = detector->type();
    info.created = created;
    info.ranks = comm.size();
    timed_phase(comm, timer, "write", [&] {
      write_score_file(comm, temporary, slab.global_begin, slab.global_rows, scores, info);
    });
    summary =
        fmt::format("{} rows, {} anomalies ({:.3f}%), threshold {:.6g}", slab.global_rows,
                    threshold.flagged, 100 * threshold.achieved_fraction(), threshold.threshold);
    if (report.metrics)
      summary +=
          fmt::format("; ROC-AUC {:.4f}, PR-AUC {:.4f}, precision {:.4f}, recall {:.4f}, F1 {:.4f}",
                      report.metrics->roc_auc, report.metrics->pr_auc, report.metrics->precision,
                      report.metrics->recall, report.metrics->f1);
    summary += fmt::format("\nscores: {}", config.output_path);
  } else {
    summary = fmt::format("trained {} on {} rows x {} features", detector->type(), slab.global_rows,
                          slab.n_features());
  }
  if (writes_model) summary += fmt::format("\nmodel: {}", config.model_path);

  report.phases = reduce_timings(comm, timer);
  if (writes_report) {
    const std::string temporary = temporary_path(config.report_path, job_id);
    pending.add(temporary, config.report_path);
    guarded_phase(comm, "write", [&] {
      if (root) write_text_file(temporary, to_json(report));
    });
    summary += fmt::format("\nreport: {}", config.report_path);
  }
  comm.barrier();  // every rank has closed every temporary file
  guarded_phase(comm, "commit", [&] { pending.commit(); });
  return summary;
}

void inspect_file(const std::string& path, std::ostream& out) {
  h5::File file = h5::File::open_local(path);
  const hid_t root = file.id();
  const std::string format = h5::read_string_attribute(root, "format").value_or("");
  if (format == kModelFormat) {
    std::vector<std::byte> image = read_file_bytes(path);
    Sha256 hash;
    hash.update(image);
    const ModelFile model = read_model_file(image, path);
    out << fmt::format("hpcad model file {}\n", path);
    out << fmt::format("  format          {} version {}\n", kModelFormat, kModelFormatVersion);
    out << fmt::format("  sha256          {}\n", hash.hex_digest());
    out << fmt::format("  detector        {}\n", model.detector);
    for (const auto& [name, value] : model.params.values())
      out << fmt::format("    {:<14}{}\n", name, to_string(value));
    out << fmt::format("  features        {}{}\n", model.n_features,
                       model.feature_names.empty()
                           ? ""
                           : fmt::format(" ({})", fmt::join(model.feature_names, ", ")));
    for (const auto& [name, values] : model.state.integers)
      out << fmt::format("  state {:<24}{} int64\n", name, values.size());
    for (const auto& [name, values] : model.state.reals)
      out << fmt::format("  state {:<24}{} float64\n", name, values.size());
    out << fmt::format("  trained on      {} ({} rows, {} ranks)\n", model.input_path,
                       model.training_rows, model.ranks);
    out << fmt::format("  created         {}\n", model.created);
    out << fmt::format("  config sha256   {}\n", model.config_sha256);
    return;
  }
  if (format == "hpcad-scores") {
    out << fmt::format("hpcad scores file {}\n", path);
    for (const char* key : {"rows", "anomalies"})
      out << fmt::format("  {:<18}{}\n", key, h5::read_int_attribute(root, key).value_or(-1));
    for (const char* key : {"threshold", "contamination", "achieved_fraction"})
      out << fmt::format("  {:<18}{}\n", key,
                         h5::read_real_attribute(root, key).value_or(std::nan("")));
    for (const char* key : {"detector", "input_path", "model_sha256", "hpcad_version", "created"})
      out << fmt::format("  {:<18}{}\n", key, h5::read_string_attribute(root, key).value_or(""));
    out << fmt::format("  {:<18}{}\n", "ranks", h5::read_int_attribute(root, "ranks").value_or(-1));
    return;
  }
  throw DataError(
      fmt::format("{}: neither an hpcad model nor an hpcad scores file (format attribute \"{}\")",
                  path, format));
}

}  // namespace hpcad
