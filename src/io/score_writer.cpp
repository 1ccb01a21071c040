#include "hpcad/io/score_writer.hpp"

#include <fmt/format.h>

#include <cstdint>
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

std::string part_path(const ScoreColumn& part) {
  return fmt::format("{}/{}", kPartScoresGroup, part.name);
}

}  // namespace

void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, std::span<const ScoreColumn> parts,
                      const ScoreFileInfo& info) {
  std::vector<std::int8_t> flags(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] > info.threshold ? 1 : 0;
  const Index rows = static_cast<Index>(scores.size());
  for (const ScoreColumn& part : parts)
    check_internal(part.values.size() == scores.size(), "partial scores have another length");
  // Every collective HDF5 step is its own guarded phase: a write that fails on one rank is
  // agreed on before the next collective call, so no rank waits in it alone. On failure the
  // handles close in reverse order (datasets, then the file) identically on every rank.
  {
    std::optional<h5::File> file;
    h5::Handle score, is_anomaly, part_group;
    std::vector<h5::Handle> part_datasets(parts.size());
    guarded_phase(comm, "write", [&] {
      file.emplace(h5::File::create(comm, path));
      score = h5::create_dataset(*file, "score", H5T_IEEE_F64LE, global_rows, 0);
      is_anomaly = h5::create_dataset(*file, "is_anomaly", H5T_STD_I8LE, global_rows, 0);
      if (!parts.empty()) part_group = h5::create_group(file->id(), kPartScoresGroup, path + ":");
      for (std::size_t p = 0; p < parts.size(); ++p)
        part_datasets[p] = h5::create_dataset(*file, part_path(parts[p]), H5T_IEEE_F64LE,
                                              global_rows, 0);
      const auto part_bytes = static_cast<std::int64_t>(parts.size() * sizeof(double));
      if (comm.rank() == 0)
        reserve_space(path, global_rows * (sizeof(double) + sizeof(std::int8_t) + part_bytes) +
                                static_cast<std::int64_t>(info.config_text.size()) +
                                kMetadataReserve);
    });
    guarded_phase(comm, "write", [&] {
      h5::write_rows(*file, score.id(), H5T_NATIVE_DOUBLE, global_begin, rows, 0, scores.data());
    });
    guarded_phase(comm, "write", [&] {
      h5::write_rows(*file, is_anomaly.id(), H5T_NATIVE_INT8, global_begin, rows, 0, flags.data());
    });
    for (std::size_t p = 0; p < parts.size(); ++p)
      guarded_phase(comm, "write", [&] {
        h5::write_rows(*file, part_datasets[p].id(), H5T_NATIVE_DOUBLE, global_begin, rows, 0,
                       parts[p].values.data());
      });
    guarded_phase(comm, "write", [&] {
      score.close(path);
      is_anomaly.close(path);
      for (h5::Handle& dataset : part_datasets) dataset.close(path);
      if (!parts.empty()) part_group.close(path);
      write_attributes(file->id(), global_rows, info);
    });
    guarded_phase(comm, "write", [&] { file->close(); });
  }
  // Open MPI's OMPIO has reported success for collective writes that hit a full disk, so the
  // file counts as written only once it reads back as written.
  guarded_phase(comm, "verify", [&] {
    const h5::File file = h5::File::open(comm, path);
    verify_dataset<double>(file, "score", H5T_NATIVE_DOUBLE, global_begin, global_rows, scores);
    verify_dataset<std::int8_t>(file, "is_anomaly", H5T_NATIVE_INT8, global_begin, global_rows,
                                flags);
    for (const ScoreColumn& part : parts)
      verify_dataset<double>(file, part_path(part), H5T_NATIVE_DOUBLE, global_begin, global_rows,
                             part.values);
  });
}

}  // namespace hpcad
