#pragma once
/// Versioned model files (HDF5) for train-once / score-many.
///
/// Layout (format_version 3): root attributes `format` = "hpcad-model", `format_version`,
/// `detector`, `content_sha256`, `hpcad_version`, `n_features` and `feature_names` (the raw
/// input columns the model reads) and the training provenance; group /params holds the
/// detector's hyperparameters (scalars as attributes, lists as 1-D datasets, table lists as
/// numbered subgroups); group /state its learned state (1-D float64 / int64 datasets,
/// children as subgroups); group /transforms/<i> each feature step in order, with attribute
/// `type` and its own params and state groups.
///
/// `content_sha256` is the SHA-256 of a canonical serialisation of everything scoring uses:
/// detector type, input columns, /params, /state and each step's type, params and state
/// (not the provenance, which is informational). It detects corruption (a flipped bit in a
/// threshold would otherwise change scores silently); it is not a signature, so the loader
/// also validates every value and index as untrusted input.
///
/// Versions 1 (no transforms) and 2 predate the checksum and are still read: refusing them
/// would strand every model trained so far, and the checksum adds no protection against a
/// crafted file (anyone can recompute it), which the validation provides for all versions.
/// `hpcad inspect` says when a file has no checksum.
#include <cstddef>
#include <string>
#include <vector>

#include "hpcad/model/model.hpp"

namespace hpcad {

inline constexpr const char* kModelFormat = "hpcad-model";
inline constexpr std::int64_t kModelFormatVersion = 3;
/// The first format version whose files carry (and must carry) kContentSha256.
inline constexpr std::int64_t kFirstChecksummedVersion = 3;
inline constexpr const char* kContentSha256 = "content_sha256";

/// Local. Writes `model` to `path` (a temporary name; the caller renames it).
void write_model_file(const std::string& path, const Model& model);

/// Local. Parses and validates a model file held in memory; `path` names it in errors. The
/// model is ready to score: every step's and the detector's state has been loaded and
/// validated. Throws DataError naming the file and what is wrong (format, version, type,
/// checksum, hyperparameter, state array, or HDF5 structure), never bad_alloc: every declared
/// size is bounded by the image before anything is allocated.
Model read_model_file(std::vector<std::byte>& image, const std::string& path);

/// Local. The whole file's bytes; throws IoError naming the file (also for a directory).
std::vector<std::byte> read_file_bytes(const std::string& path);

}  // namespace hpcad
