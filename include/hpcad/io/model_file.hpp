#pragma once
/// Versioned model files (HDF5) for train-once / score-many.
///
/// Layout: root attributes `format` = "hpcad-model", `format_version`, `detector`,
/// `hpcad_version`, `n_features`, `feature_names` (when known) and training provenance;
/// group /params holds the hyperparameters as attributes; group /state holds the learned
/// state as 1-D datasets (float64 or int64). Hyperparameters are kept apart from state.
#include <cstddef>
#include <string>
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

inline constexpr const char* kModelFormat = "hpcad-model";
inline constexpr std::int64_t kModelFormatVersion = 1;

struct ModelFile {
  std::string detector;
  ParamSet params;
  Index n_features = 0;
  std::vector<std::string> feature_names;  ///< empty when the input had no names
  ModelState state;
  // Training provenance.
  std::string input_path;
  Index training_rows = 0;
  int ranks = 1;
  std::string created;
  std::string config_sha256;
};

/// Local. Writes `model` to `path` (a temporary name; the caller renames it).
void write_model_file(const std::string& path, const ModelFile& model);

/// Local. Parses and validates a model file held in memory; `path` names it in errors.
/// Throws DataError naming the file and what differs (format, version, detector,
/// hyperparameter, state).
ModelFile read_model_file(std::vector<std::byte>& image, const std::string& path);

/// Local. The whole file's bytes; throws IoError naming the file.
std::vector<std::byte> read_file_bytes(const std::string& path);

}  // namespace hpcad
