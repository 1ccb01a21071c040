#include "hpcad/io/score_writer.hpp"

#include <cstdint>
#include <vector>

#include "hpcad/io/hdf5.hpp"

namespace hpcad {

void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, const ScoreFileInfo& info) {
  h5::File file = h5::File::create(comm, path);
  std::vector<std::int8_t> flags(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] > info.threshold ? 1 : 0;
  const Index rows = static_cast<Index>(scores.size());
  h5::Handle score = h5::create_dataset(file, "score", H5T_IEEE_F64LE, global_rows, 0);
  h5::write_rows(file, score.id(), H5T_NATIVE_DOUBLE, global_begin, rows, 0, scores.data());
  h5::Handle is_anomaly = h5::create_dataset(file, "is_anomaly", H5T_STD_I8LE, global_rows, 0);
  h5::write_rows(file, is_anomaly.id(), H5T_NATIVE_INT8, global_begin, rows, 0, flags.data());
  score.close(path);
  is_anomaly.close(path);
  const hid_t root = file.id();
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
  file.close();
}

}  // namespace hpcad
