#pragma once
/// Versioned model files (HDF5) for train-once / score-many.
///
/// Layout (format_version 2): root attributes `format` = "hpcad-model", `format_version`,
/// `detector`, `hpcad_version`, `n_features` and `feature_names` (the raw input columns the
/// model reads) and the training provenance; group /params holds the detector's
/// hyperparameters (scalars as attributes, lists as 1-D datasets, table lists as numbered
/// subgroups); group /state its learned state (1-D float64 / int64 datasets, children as
/// subgroups); group /transforms/<i> each feature step in order, with attribute `type` and
/// its own params and state groups. Version 1 files (no transforms) are read too.
#include <cstddef>
#include <string>
#include <vector>

#include "hpcad/model/model.hpp"

namespace hpcad {

inline constexpr const char* kModelFormat = "hpcad-model";
inline constexpr std::int64_t kModelFormatVersion = 2;

/// Local. Writes `model` to `path` (a temporary name; the caller renames it).
void write_model_file(const std::string& path, const Model& model);

/// Local. Parses and validates a model file held in memory; `path` names it in errors. The
/// model is ready to score: every step's and the detector's state has been loaded and
/// validated. Throws DataError naming the file and what is wrong (format, version, type,
/// hyperparameter, state array).
Model read_model_file(std::vector<std::byte>& image, const std::string& path);

/// Local. The whole file's bytes; throws IoError naming the file.
std::vector<std::byte> read_file_bytes(const std::string& path);

}  // namespace hpcad
