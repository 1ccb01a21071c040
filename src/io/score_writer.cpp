#include "hpcad/io/score_writer.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/output_path.hpp"

namespace hpcad {
namespace {

/// Room for the file's metadata besides the config text: superblock, object headers and
/// the other attributes take a few KiB.
constexpr std::int64_t kMetadataReserve = std::int64_t{64} << 10;

void write_attributes(hid_t root, Index global_rows, const ScoreFileInfo& info) {
  h5::write_attribute(root, "format", std::string(kScoresFormat));
  h5::write_attribute(root, "format_version", std::int64_t{1});
  h5::write_attribute(root, "threshold", info.threshold);
  h5::write_attribute(root, "contamination", info.contamination);
  h5::write_attribute(root, "achieved_fraction", info.achieved_fraction);
  h5::write_attribute(root, "anomalies", static_cast<std::int64_t>(info.flagged));
  h5::write_attribute(root, "rows", static_cast<std::int64_t>(global_rows));
  h5::write_attribute(root, "model_sha256", info.model_sha256);
  h5::write_attribute(root, "config", info.config_text);
  h5::write_attribute(root, "detector", info.detector);
  const Provenance& p = info.provenance;
  h5::write_attribute(root, "command", p.command);
  h5::write_attribute(root, "input_path", p.input_path);
  h5::write_attribute(root, "hpcad_version", p.hpcad_version);
  h5::write_attribute(root, "ranks", static_cast<std::int64_t>(p.ranks));
  h5::write_attribute(root, "created", p.created);
  h5::write_attribute(root, "job_id", p.job_id);
  h5::write_attribute(root, "config_sha256", p.config_sha256);
}

/// Collective. Reads back this rank's rows of one dataset and compares them bit for bit.
template <typename T>
void verify_dataset(const h5::File& file, const std::string& name, hid_t memory_type,
                    Index global_begin, Index global_rows, std::span<const T> expected) {
  const std::string context = fmt::format("{}: dataset {}", file.path(), name);
  if (!h5::exists(file.id(), name))
    throw IoError(fmt::format("{} is missing after writing", context));
  h5::Handle dataset =
      h5::own(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2", context);
  const std::vector<Index> shape = h5::dataset_shape(dataset.id(), context);
  if (shape != std::vector<Index>{global_rows})
    throw IoError(fmt::format("{} has shape [{}] after writing, expected [{}]", context,
                              fmt::join(shape, ", "), global_rows));
  std::vector<T> stored(expected.size());
  h5::read_rows(file, dataset.id(), memory_type, global_begin, static_cast<Index>(stored.size()), 0,
                stored.data());
  if (!stored.empty() && std::memcmp(stored.data(), expected.data(), stored.size() * sizeof(T)))
    throw IoError(fmt::format("{}: rows {} to {} read back differ from what was written", context,
                              global_begin, global_begin + static_cast<Index>(stored.size())));
}

/// Names for /features: the schema's, or the column indices of an unnamed table.
std::vector<std::string> feature_names(const Schema& schema) {
  if (!schema.feature_names.empty()) return schema.feature_names;
  std::vector<std::string> names;
  for (Index j = 0; j < schema.n_features; ++j) names.push_back(std::to_string(j));
  return names;
}

std::string part_path(const std::string& name) {
  return fmt::format("{}/{}", kPartScoresGroup, name);
}

}  // namespace

/// The open file and datasets; handles close in reverse order (datasets, then the file)
/// identically on every rank, also when a phase failed.
struct ScoreFileWriter::Open {
  std::optional<h5::File> file;
  h5::Handle score, is_anomaly, features, part_group;
  std::vector<h5::Handle> parts;
};

ScoreFileWriter::ScoreFileWriter(Comm& comm, std::string path, Index global_begin,
                                 Index local_rows, Index global_rows,
                                 const std::optional<Schema>& features,
                                 std::vector<std::string> part_names, std::int64_t config_bytes)
    : comm_(comm),
      path_(std::move(path)),
      global_begin_(global_begin),
      local_rows_(local_rows),
      global_rows_(global_rows),
      part_names_(std::move(part_names)),
      open_(std::make_unique<Open>()) {
  if (features) n_features_ = features->n_features;
  // Every collective HDF5 step is its own guarded phase: a write that fails on one rank is
  // agreed on before the next collective call, so no rank waits in it alone.
  guarded_phase(comm_, "write", [&] {
    Open& o = *open_;
    o.file.emplace(h5::File::create(comm_, path_));
    o.score = h5::create_dataset(*o.file, "score", H5T_IEEE_F64LE, global_rows_, 0);
    o.is_anomaly = h5::create_dataset(*o.file, "is_anomaly", H5T_STD_I8LE, global_rows_, 0);
    if (features) {
      o.features =
          h5::create_dataset(*o.file, "features", H5T_IEEE_F64LE, global_rows_, n_features_);
      h5::write_attribute(o.features.id(), "names", feature_names(*features));
    }
    if (!part_names_.empty())
      o.part_group = h5::create_group(o.file->id(), kPartScoresGroup, path_ + ":");
    for (const std::string& name : part_names_)
      o.parts.push_back(
          h5::create_dataset(*o.file, part_path(name), H5T_IEEE_F64LE, global_rows_, 0));
    const auto doubles_per_row = static_cast<Index>(1 + n_features_ + part_names_.size());
    if (comm_.rank() == 0)
      reserve_space(path_, global_rows_ * (sizeof(double) * doubles_per_row +
                                           sizeof(std::int8_t)) +
                               config_bytes + kMetadataReserve);
  });
}

ScoreFileWriter::~ScoreFileWriter() = default;

void ScoreFileWriter::write_features(Index global_begin, Index rows,
                                     std::span<const double> values) {
  check_internal(n_features_ > 0 && static_cast<Index>(values.size()) == rows * n_features_,
                 "write_features: no /features dataset or a block of the wrong width");
  written_features_.update(std::as_bytes(values));
  max_block_rows_ = std::max(max_block_rows_, rows);
  guarded_phase(comm_, "write", [&] {
    h5::write_rows(*open_->file, open_->features.id(), H5T_NATIVE_DOUBLE, global_begin, rows,
                   n_features_, values.data());
  });
}

void ScoreFileWriter::finish(std::span<const double> scores, std::span<const ScoreColumn> parts,
                             const ScoreFileInfo& info) {
  check_internal(static_cast<Index>(scores.size()) == local_rows_,
                 "finish: one score per local row");
  check_internal(parts.size() == part_names_.size(), "finish: one score column per part");
  for (std::size_t p = 0; p < parts.size(); ++p)
    check_internal(parts[p].name == part_names_[p] && parts[p].values.size() == scores.size(),
                   "finish: part scores of another name or length");
  std::vector<std::int8_t> flags(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] > info.threshold ? 1 : 0;
  Open& o = *open_;
  guarded_phase(comm_, "write", [&] {
    h5::write_rows(*o.file, o.score.id(), H5T_NATIVE_DOUBLE, global_begin_, local_rows_, 0,
                   scores.data());
  });
  guarded_phase(comm_, "write", [&] {
    h5::write_rows(*o.file, o.is_anomaly.id(), H5T_NATIVE_INT8, global_begin_, local_rows_, 0,
                   flags.data());
  });
  for (std::size_t p = 0; p < parts.size(); ++p)
    guarded_phase(comm_, "write", [&] {
      h5::write_rows(*o.file, o.parts[p].id(), H5T_NATIVE_DOUBLE, global_begin_, local_rows_, 0,
                     parts[p].values.data());
    });
  guarded_phase(comm_, "write", [&] {
    o.score.close(path_);
    o.is_anomaly.close(path_);
    if (n_features_ > 0) o.features.close(path_);
    for (h5::Handle& dataset : o.parts) dataset.close(path_);
    if (!parts.empty()) o.part_group.close(path_);
    write_attributes(o.file->id(), global_rows_, info);
  });
  guarded_phase(comm_, "write", [&] { o.file->close(); });
  open_.reset();
  // Open MPI's OMPIO has reported success for collective writes that hit a full disk, so the
  // file counts as written only once it reads back as written.
  guarded_phase(comm_, "verify", [&] {
    const h5::File file = h5::File::open(comm_, path_);
    verify_dataset<double>(file, "score", H5T_NATIVE_DOUBLE, global_begin_, global_rows_, scores);
    verify_dataset<std::int8_t>(file, "is_anomaly", H5T_NATIVE_INT8, global_begin_, global_rows_,
                                flags);
    for (const ScoreColumn& part : parts)
      verify_dataset<double>(file, part_path(part.name), H5T_NATIVE_DOUBLE, global_begin_,
                             global_rows_, part.values);
  });
  if (n_features_ > 0) verify_features(comm_.allreduce_value(max_block_rows_, ReduceOp::kMax));
}

void ScoreFileWriter::verify_features(Index max_block_rows) {
  // The features are not kept: read this rank's rows back in blocks as large as the largest
  // written one (the same number of collective reads on every rank) and compare checksums.
  const Index blocks = comm_.allreduce_value(
      max_block_rows > 0 ? (local_rows_ + max_block_rows - 1) / max_block_rows : 0, ReduceOp::kMax);
  guarded_phase(comm_, "verify", [&] {
    const h5::File file = h5::File::open(comm_, path_);
    const std::string context = fmt::format("{}: dataset features", path_);
    h5::Handle dataset =
        h5::own(H5Dopen2(file.id(), "features", H5P_DEFAULT), H5Dclose, "H5Dopen2", context);
    const std::vector<Index> shape = h5::dataset_shape(dataset.id(), context);
    if (shape != std::vector<Index>{global_rows_, n_features_})
      throw IoError(fmt::format("{} has shape [{}] after writing, expected [{}, {}]", context,
                                fmt::join(shape, ", "), global_rows_, n_features_));
    Sha256 stored;
    std::vector<double> values;
    for (Index b = 0; b < blocks; ++b) {
      const Index begin = std::min(b * max_block_rows, local_rows_);
      const Index rows = std::min(max_block_rows, local_rows_ - begin);
      values.resize(static_cast<std::size_t>(rows * n_features_));
      h5::read_rows(file, dataset.id(), H5T_NATIVE_DOUBLE, global_begin_ + begin, rows,
                    n_features_, values.data());
      stored.update(std::as_bytes(std::span<const double>(values)));
    }
    if (stored.hex_digest() != written_features_.hex_digest())
      throw IoError(fmt::format("{}: rows {} to {} read back differ from what was written",
                                context, global_begin_, global_begin_ + local_rows_));
  });
}

void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, std::span<const ScoreColumn> parts,
                      const ScoreFileInfo& info) {
  std::vector<std::string> names;
  for (const ScoreColumn& part : parts) names.push_back(part.name);
  ScoreFileWriter writer(comm, path, global_begin, static_cast<Index>(scores.size()), global_rows,
                         std::nullopt, std::move(names),
                         static_cast<std::int64_t>(info.config_text.size()));
  writer.finish(scores, parts, info);
}

}  // namespace hpcad
