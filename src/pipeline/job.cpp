#include "hpcad/pipeline/job.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "hpcad/core/error.hpp"
#include "hpcad/core/interrupt.hpp"
#include "hpcad/core/sha256.hpp"
#include "hpcad/eval/metrics.hpp"
#include "hpcad/eval/threshold.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/io/model_file.hpp"
#include "hpcad/io/output_path.hpp"
#include "hpcad/io/score_writer.hpp"
#include "hpcad/io/sources.hpp"
#include "hpcad/pipeline/config.hpp"
#include "hpcad/pipeline/report.hpp"
#include "hpcad/pipeline/resources.hpp"

namespace hpcad {
namespace {

using Clock = std::chrono::steady_clock;

/// Room for what a block costs beyond the cache: the reader's buffer, the block, each
/// transform's output and the detector's scratch.
constexpr std::int64_t kBlockCopies = 4;
/// Room for the model (trees, gathered samples, statistics) and small allocations.
constexpr std::int64_t kModelReserve = std::int64_t{32} << 20;

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
  write_whole_file(path, std::as_bytes(std::span(text.data(), text.size())));
}

/// Collective. Rank 0 reads the config file; every rank parses the same text.
Config load_config(Comm& comm, const JobRequest& request) {
  std::string text;
  guarded_phase(comm, "config", [&] {
    if (comm.rank() != 0) return;
    std::ifstream in(request.config_path, std::ios::binary);
    if (!in) throw IoError(fmt::format("{}: cannot open the config file", request.config_path));
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  });
  text = comm.broadcast_string(text, 0);
  Config config;
  guarded_phase(comm, "config", [&] {
    config = parse_config(text, request.config_path, request.overrides, request.working_directory);
    if (request.kind == JobKind::kTrain && config.model_path.empty())
      throw ConfigError(
          fmt::format("{}: output.model is empty; hpcad train needs a model file to write",
                      request.config_path));
  });
  return config;
}

/// Everything one job shares between its stages.
struct Job {
  Job(Comm& c, const JobRequest& r)
      : comm(c),
        request(r),
        config(load_config(c, r)),
        log(c.rank(), c.size(), parse_level(config.log_level)),
        progress(log, "read"),
        pending(c.rank() == 0) {}

  /// Where this job writes `path` until it commits.
  std::string temporary(const std::string& path) const { return temporary_path(path, tag); }

  bool root() const { return comm.rank() == 0; }
  bool writes_scores() const { return request.kind != JobKind::kTrain; }
  bool writes_model() const {
    return request.kind != JobKind::kScore && !config.model_path.empty();
  }
  bool writes_report() const {
    return request.kind != JobKind::kTrain && !config.report_path.empty();
  }
  /// Runs a guarded phase and records its wall time on this rank.
  void phase(const std::string& name, const std::function<void()>& body) {
    const auto start = Clock::now();
    guarded_phase(comm, name, [&] {
      throw_if_interrupted();
      body();
    });
    timer.add(name, seconds_since(start));
  }

  Comm& comm;
  const JobRequest& request;
  Config config;
  Log log;
  PassProgress progress;
  PhaseTimer timer;
  Provenance provenance;
  std::string tag;                ///< names this job's temporaries (job id, pid, host)
  std::vector<OutputLock> locks;  ///< rank 0; released after the temporaries are gone
  PendingOutputs pending;
  JobReport report;
  std::string model_sha256;
  /// What the detector's feature rows may be cached in, when the model has feature steps
  /// (the raw rows are then not cached: see open_input).
  std::int64_t feature_cache_budget = 0;
};

/// The outputs this job writes, as (config key, path).
std::vector<std::pair<std::string, std::string>> job_outputs(const Job& job) {
  std::vector<std::pair<std::string, std::string>> outputs;
  if (job.writes_scores()) outputs.emplace_back("output.path", job.config.output_path);
  if (job.writes_model()) outputs.emplace_back("output.model", job.config.model_path);
  if (job.writes_report()) outputs.emplace_back("output.report", job.config.report_path);
  return outputs;
}

/// Collective. Agrees on the job's identity and refuses outputs that cannot be written,
/// before any expensive work; rank 0 locks every output for the rest of the job.
void prepare(Job& job) {
  Provenance& p = job.provenance;
  p.command = command_name(job.request.kind);
  p.job_id = agree_job_id(job.comm);
  job.tag = job.comm.broadcast_string(job.root() ? temporary_tag(p.job_id) : "", 0);
  p.created = job.comm.broadcast_string(job.root() ? utc_now() : "", 0);
  p.input_path = job.config.input.path;
  p.ranks = job.comm.size();
  p.config_sha256 = sha256_hex(job.config.provenance_text());
  job.log.info("{} on {} rank{}: input {}", p.command, job.comm.size(),
               job.comm.size() > 1 ? "s" : "", p.input_path);
  job.phase("prepare", [&] {
    const auto outputs = job_outputs(job);
    refuse_colliding_outputs(outputs);
    for (const auto& [key, path] : outputs) {
      refuse_overwriting_input(path, key, job.config.input.path);
      if (job.request.kind == JobKind::kScore)
        refuse_overwriting_input(path, key, job.request.model_path);
      if (job.root()) job.locks.push_back(claim_output(path, key, job.tag, job.log));
    }
  });
}

/// Collective. Rank 0 reads the model file; every rank validates and loads the same bytes.
Model load_model(Job& job) {
  std::vector<std::byte> image;
  job.phase("model", [&] {
    if (job.root()) image = read_file_bytes(job.request.model_path);
  });
  job.comm.broadcast(image, 0);
  Model model;
  job.phase("model", [&] {
    Sha256 hash;
    hash.update(image);
    job.model_sha256 = hash.hex_digest();
    model = read_model_file(image, job.request.model_path);
  });
  job.log.info("model {}: {} with {} features (sha256 {})", job.request.model_path,
               model.detector->type(), model.feature_schema().n_features,
               job.model_sha256.substr(0, 12));
  return model;
}

/// An unfitted model as the config describes it.
Model configured_model(const Config& config) {
  Model model;
  if (config.input.nan_policy == "impute")
    model.transforms.push_back(make_transform("impute", ParamSet(Impute::param_specs())));
  for (const FeatureStepConfig& step : config.feature_steps)
    model.transforms.push_back(make_transform(step.op, step.params));
  model.detector = make_detector(config.detector_type, config.detector_params);
  return model;
}

/// Collective. Opens the input and sizes the cache: scores (the model's score and its parts,
/// such as an ensemble's member scores) and labels must stay resident, a few blocks are in
/// flight, the rest of the budget may cache the rows.
std::unique_ptr<BlockSource> open_input(Job& job, const Model& model) {
  std::unique_ptr<BlockReader> reader;
  MemoryBudget budget;
  job.phase("read", [&] {
    budget = resolve_memory_budget(job.comm, job.config.memory_per_rank);
    reader = open_input_reader(job.comm, job.config.input);
  });
  const TableInfo& info = reader->info();
  std::int64_t cache_budget = 0;
  job.phase("read", [&] {
    const auto score_columns = static_cast<std::int64_t>(1 + model.detector->part_names().size());
    const std::int64_t resident =
        job.writes_scores() ? info.local_rows * (8 * score_columns + (info.has_labels ? 1 : 0))
                            : 0;
    const std::int64_t block_bytes =
        std::min(job.config.input.block_rows, info.local_rows) * (info.schema.n_features + 1) * 8;
    const std::int64_t needed = resident + kBlockCopies * block_bytes + kModelReserve;
    if (budget.bytes < needed)
      throw ConfigError(fmt::format(
          "run.memory_per_rank: {} MiB (from {}) is too small for {} rows on this rank: the "
          "scores alone need {} MiB and the job at least {} MiB; use more ranks or more memory",
          budget.bytes >> 20, budget.origin, info.local_rows, resident >> 20, (needed >> 20) + 1));
    cache_budget = budget.bytes - needed;
  });
  job.report.memory.budget_bytes = budget.bytes;
  job.report.memory.budget_origin = budget.origin;
  // With feature steps the cache holds the rows the detector passes over, the feature rows;
  // the steps' own fitting passes re-read the raw rows (caching both would touch memory
  // for rows that are read once more at most).
  const bool has_steps = !model.transforms.empty();
  job.feature_cache_budget = has_steps ? cache_budget : 0;
  // Whichever cache is used and a detector's own working set (exact neighbours) share what
  // is left: RowSource::spare_bytes.
  auto source = std::make_unique<BlockSource>(job.comm, std::move(reader),
                                              has_steps ? 0 : cache_budget, cache_budget);
  source->set_progress(&job.progress);
  job.log.info("input {}: {} rows x {} features; memory {} MiB per rank ({})",
               source->reader().kind(), info.global_rows, info.schema.n_features,
               budget.bytes >> 20, budget.origin);
  return source;
}

/// Local. The input must have the columns the model was trained on.
void check_input_matches(const Model& model, const TableInfo& input, const std::string& path) {
  const Schema& expected = model.input_schema;
  if (input.schema.n_features != expected.n_features)
    throw DataError(fmt::format("{}: the model expects {} features but the input has {}", path,
                                expected.n_features, input.schema.n_features));
  if (!expected.feature_names.empty() && !input.schema.feature_names.empty() &&
      expected.feature_names != input.schema.feature_names)
    throw DataError(fmt::format("{}: the model's feature names ({}) differ from the input's ({})",
                                path, fmt::join(expected.feature_names, ", "),
                                fmt::join(input.schema.feature_names, ", ")));
}

/// Collective. What the report says about the job before scoring.
void fill_report(Job& job, const Model& model, const BlockSource& input) {
  JobReport& report = job.report;
  report.provenance = job.provenance;
  report.provenance.rows = input.global_rows();
  report.config_path = job.request.config_path;
  report.detector = model.detector->type();
  report.rows = input.global_rows();
  report.features = input.n_features();
  report.skipped_rows = job.comm.allreduce_value(input.reader().skipped_rows(), ReduceOp::kSum);
  if (report.skipped_rows > 0)
    job.log.info("skipped {} malformed rows (input.skip_bad_rows = true)", report.skipped_rows);
}

/// Collective. Fits the configured transforms and detector; returns the detector's view of
/// the input, which keeps the feature rows of the fit for scoring if the budget allows.
std::unique_ptr<TransformedSource> train_model(Job& job, Model& model, BlockSource& input) {
  const auto start = Clock::now();
  job.progress.start("fit");
  std::unique_ptr<TransformedSource> features;
  job.phase("fit", [&] {
    FitContext context{job.comm, job.log};
    model.fit_transforms(context, input, job.config.input.path);
    features = model.features(input, job.config.input.path, job.feature_cache_budget);
    model.detector->fit(context, *features);
  });
  const double seconds = seconds_since(start);
  job.log.info("fit {} on {} rows in {:.2f}s ({:.2f} M rows/s)", model.detector->type(),
               input.global_rows(), seconds,
               static_cast<double>(input.global_rows()) / std::max(seconds, 1e-9) * 1e-6);
  model.training = job.provenance;
  model.training.rows = input.global_rows();
  return features;
}

/// Collective. Rank 0 writes the model to its temporary name.
void write_model(Job& job, const Model& model) {
  const std::string temporary = job.temporary(job.config.model_path);
  job.pending.add(temporary, job.config.model_path);
  job.phase("write", [&] {
    if (!job.root()) return;
    write_model_file(temporary, model);
    // Read back as `score` will read it: what reached the disk must be a loadable model.
    std::vector<std::byte> image = read_file_bytes(temporary);
    read_model_file(image, temporary);
    Sha256 hash;
    hash.update(image);
    job.model_sha256 = hash.hex_digest();
  });
  job.model_sha256 = job.comm.broadcast_string(job.model_sha256, 0);
  job.report.model_path = job.config.model_path;
  job.log.info("model written: {} (sha256 {})", job.config.model_path,
               job.model_sha256.substr(0, 12));
}

/// This rank's scores, partial scores (part_names() order) and labels, in local row order.
struct LocalScores {
  std::vector<double> scores;
  std::vector<std::vector<double>> parts;
  std::vector<std::int8_t> labels;
};

/// Collective. Creates the scores file (temporary name): before scoring with
/// `output.write_features`, so that the features are written block by block as they are
/// computed, else after it (an interrupted scoring pass then has no file to clean up).
std::unique_ptr<ScoreFileWriter> create_score_file(Job& job, const Model& model,
                                                   const RowSource& input) {
  const std::string temporary = job.temporary(job.config.output_path);
  job.pending.add(temporary, job.config.output_path);
  std::optional<Schema> features;
  if (job.config.write_features) features = model.feature_schema();
  std::unique_ptr<ScoreFileWriter> file;
  job.phase("write", [&] {
    file = std::make_unique<ScoreFileWriter>(
        job.comm, temporary, input.local_begin(), input.local_rows(), input.global_rows(),
        features, model.detector->part_names(),
        static_cast<std::int64_t>(job.config.provenance_text().size()));
  });
  return file;
}

/// Local rows [at, at + rows) of every part.
std::vector<std::span<double>> part_rows(LocalScores& local, Index at, Index rows) {
  std::vector<std::span<double>> parts;
  for (auto& part : local.parts) parts.push_back(std::span(part).subspan(at, rows));
  return parts;
}

/// Collective. One pass over the detector's view of the input (`features`: made here when
/// null), block by block; each block's features go to `features_out` unless it is null.
LocalScores score_rows(Job& job, const Model& model, RowSource& input,
                       std::unique_ptr<TransformedSource>& features, ScoreFileWriter* features_out) {
  const Index n = input.local_rows();
  LocalScores local;
  local.scores.resize(static_cast<std::size_t>(n));
  local.parts.assign(model.detector->part_names().size(), std::vector<double>(local.scores.size()));
  if (input.has_labels()) local.labels.resize(static_cast<std::size_t>(n));
  const auto start = Clock::now();
  job.progress.start("score");
  job.phase("score", [&] {
    if (!features) features = model.features(input, job.config.input.path);
    const Detector& detector = *model.detector;
    const Index block_rows = job.config.score_block_rows;
    // A collective detector scores the whole input at once; the pass below then only
    // collects the labels.
    const bool collective = detector.scores_collectively();
    if (collective)
      detector.score_parts_collective(job.comm, *features, local.scores, part_rows(local, 0, n));
    RowBlock block;
    features->rewind();
    while (features->next(block)) {
      const Index at = block.global_begin - input.local_begin();
      const auto out = std::span(local.scores).subspan(at, block.n_rows);
      if (!collective) {
        // Sub-blocks small enough that rows and scores stay in cache while every tree
        // (or centre, component...) of the model streams past them.
        for (Index begin = 0; begin < block.n_rows; begin += block_rows) {
          const Index rows = std::min(block_rows, block.n_rows - begin);
          if (local.parts.empty())
            detector.score(block.slice(begin, rows), out.subspan(begin, rows));
          else
            detector.score_parts(block.slice(begin, rows), out.subspan(begin, rows),
                                 part_rows(local, at + begin, rows));
        }
      }
      for (Index i = 0; i < static_cast<Index>(block.labels.size()); ++i)
        local.labels[at + i] = static_cast<std::int8_t>(block.labels[i]);
      if (features_out)
        features_out->write_features(block.global_begin, block.n_rows, block.values);
    }
    job.report.imputed_values =
        model.transforms.empty()
            ? 0
            : job.comm.allreduce_value(features->non_finite_inputs(), ReduceOp::kSum);
  });
  if (features->halo_rows() > 0) {
    // Part of fit and score, reported apart to show it is O(window), not O(rows).
    job.timer.add("halo", features->halo_seconds());
    const auto passes = static_cast<double>(std::max<Index>(1, features->halo_passes()));
    job.log.info("feature halo: {} rows from the ranks before, {:.1f} ms per pass",
                 features->halo_rows(), 1e3 * features->halo_seconds() / passes);
  }
  const double seconds = seconds_since(start);
  job.log.info("scored {} rows in {:.2f}s ({:.2f} M rows/s per rank)", input.global_rows(), seconds,
               static_cast<double>(n) / std::max(seconds, 1e-9) * 1e-6);
  return local;
}

/// Collective. Threshold, metrics against labels, and the scores file completed.
void write_scores(Job& job, const Model& model, const LocalScores& local, const RowSource& input,
                  ScoreFileWriter& file) {
  ThresholdResult threshold;
  job.phase("threshold", [&] {
    threshold = job.config.contamination
                    ? contamination_threshold(job.comm, local.scores, *job.config.contamination)
                    : fixed_threshold(job.comm, local.scores, *job.config.score_threshold);
  });
  JobReport& report = job.report;
  report.threshold = threshold.threshold;
  report.contamination = job.config.contamination;
  report.anomalies = threshold.flagged;
  report.achieved_fraction = threshold.achieved_fraction();
  job.log.info("threshold {:.6f}: {} anomalies ({:.4f}% of rows)", threshold.threshold,
               threshold.flagged, 100 * threshold.achieved_fraction());
  if (input.has_labels())
    job.phase("evaluate", [&] {
      report.metrics = evaluate_scores(job.comm, local.scores, local.labels, threshold.threshold);
    });
  report.scores_path = job.config.output_path;
  ScoreFileInfo info;
  info.threshold = threshold.threshold;
  info.contamination = job.config.contamination.value_or(std::nan(""));
  info.achieved_fraction = threshold.achieved_fraction();
  info.flagged = threshold.flagged;
  info.model_sha256 = job.model_sha256;
  info.config_text = job.config.provenance_text();
  info.detector = report.detector;
  info.provenance = job.provenance;
  job.phase("write", [&] {
    std::vector<ScoreColumn> parts;
    const std::vector<std::string> names = model.detector->part_names();
    for (std::size_t p = 0; p < names.size(); ++p) parts.push_back({names[p], local.parts[p]});
    file.finish(local.scores, parts, info);
  });
}

/// The one-paragraph summary rank 0 prints.
std::string summary(const Job& job) {
  const JobReport& r = job.report;
  std::string text;
  if (job.writes_scores()) {
    text = fmt::format("{} rows, {} anomalies ({:.3f}%), threshold {:.6g}", r.rows, r.anomalies,
                       100 * r.achieved_fraction, r.threshold);
    if (r.metrics)
      text +=
          fmt::format("; ROC-AUC {:.4f}, PR-AUC {:.4f}, precision {:.4f}, recall {:.4f}, F1 {:.4f}",
                      r.metrics->roc_auc, r.metrics->pr_auc, r.metrics->precision,
                      r.metrics->recall, r.metrics->f1);
    text += fmt::format("\nscores: {}", job.config.output_path);
  } else {
    text = fmt::format("trained {} on {} rows x {} features", r.detector, r.rows, r.features);
  }
  if (job.writes_model()) text += fmt::format("\nmodel: {}", job.config.model_path);
  if (job.writes_report()) text += fmt::format("\nreport: {}", job.config.report_path);
  return text;
}

/// Collective. Memory and timings over ranks, the report, then every output renamed.
/// `features_cached`: the detector's feature rows were served from memory.
std::string finish(Job& job, const BlockSource& source, bool features_cached) {
  JobReport& report = job.report;
  // Rows cached in memory (raw, or the detector's feature rows), or streamed.
  const char mode = source.cached() || features_cached ? 'c' : 's';
  report.memory.rank_modes = job.comm.allgather(mode);
  const double peak = static_cast<double>(peak_rss_bytes());
  report.memory.peak_rss_min = job.comm.allreduce_value(peak, ReduceOp::kMin);
  report.memory.peak_rss_max = job.comm.allreduce_value(peak, ReduceOp::kMax);
  report.memory.peak_rss_mean = job.comm.allreduce_value(peak, ReduceOp::kSum) / job.comm.size();
  job.log.info(
      "memory: {} of {} ranks cached their rows; peak RSS per rank {:.0f} / {:.0f} / "
      "{:.0f} MiB (min / mean / max)",
      std::count(report.memory.rank_modes.begin(), report.memory.rank_modes.end(), 'c'),
      job.comm.size(), report.memory.peak_rss_min / (1 << 20),
      report.memory.peak_rss_mean / (1 << 20), report.memory.peak_rss_max / (1 << 20));
  report.model_sha256 = job.model_sha256;
  report.phases = reduce_timings(job.comm, job.timer);
  if (job.writes_report()) {
    const std::string temporary = job.temporary(job.config.report_path);
    job.pending.add(temporary, job.config.report_path);
    guarded_phase(job.comm, "write", [&] {
      if (job.root()) write_text_file(temporary, to_json(report));
    });
  }
  job.comm.barrier();  // every rank has closed every temporary file
  guarded_phase(job.comm, "commit", [&] { job.pending.commit(); });
  return summary(job);
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
  Job job(comm, request);
  prepare(job);
  Model model =
      request.kind == JobKind::kScore ? load_model(job) : configured_model(job.config);
  const std::unique_ptr<BlockSource> input = open_input(job, model);
  std::unique_ptr<TransformedSource> features;
  if (request.kind == JobKind::kScore)
    job.phase("validate", [&] { check_input_matches(model, input->info(), request.model_path); });
  else
    features = train_model(job, model, *input);
  fill_report(job, model, *input);
  if (job.writes_model()) write_model(job, model);
  if (job.writes_scores()) {
    std::unique_ptr<ScoreFileWriter> file;
    if (job.config.write_features) file = create_score_file(job, model, *input);
    const LocalScores local = score_rows(job, model, *input, features, file.get());
    if (!file) file = create_score_file(job, model, *input);
    write_scores(job, model, local, *input, *file);
  }
  return finish(job, *input, features && features->cached());
}

}  // namespace hpcad
