#pragma once
/// Outputs are written under a temporary name beside the final one and renamed only when
/// complete, so a failed job never leaves a partial file at the final path.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace hpcad {

/// "<path>.tmp-<job_id>": same directory, so the final rename is atomic.
std::string temporary_path(const std::string& path, const std::string& job_id);

/// Local. Creates the parent directory of `path` if missing and checks that files can be
/// created in it; throws IoError naming the directory and the config key.
void prepare_output_directory(const std::string& path, const std::string& key);

/// Local. Creates or truncates `path` and writes `bytes` to it, synced to disk; throws IoError
/// naming the cause (e.g. "No space left on device").
void write_whole_file(const std::string& path, std::span<const std::byte> bytes);

/// Local. Allocates `bytes` of disk space for the existing file `path` (without changing its
/// length), so that a full disk or quota is reported here, once, with its cause, instead of
/// inside a collective write where MPI-IO may report it on one rank or not at all. A file
/// system without fallocate() is not an error.
void reserve_space(const std::string& path, std::int64_t bytes);

/// Local. Atomically renames a completed temporary file to its final path.
void commit_output(const std::string& temporary, const std::string& final_path);

/// Local. Removes a temporary file if it exists; never throws.
void discard_output(const std::string& temporary) noexcept;

/// Throws ConfigError when `output` and `input` name the same file (inputs are never
/// overwritten).
void refuse_overwriting_input(const std::string& output, const std::string& output_key,
                              const std::string& input);

}  // namespace hpcad
