#pragma once
/// Outputs are written under a temporary name beside the final one and renamed only when
/// complete, so a failed job never leaves a partial file at the final path. A lock file beside
/// each output keeps two jobs from writing the same output, and the temporary's name says
/// which job, host and process wrote it, so a later job can remove what a killed one left.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hpcad/core/log.hpp"

namespace hpcad {

/// Local (rank 0). "<job_id>.p<pid>@<host>": names this process's temporaries. The pid and
/// host make it unique even for two job steps sharing a Slurm job id.
std::string temporary_tag(const std::string& job_id);

/// "<path>.tmp-<tag>": same directory, so the final rename is atomic.
std::string temporary_path(const std::string& path, const std::string& tag);

/// Local. Throws ConfigError when two outputs name the same file (after normalising the
/// paths) or an output path is empty. `outputs`: (config key, path) pairs.
void refuse_colliding_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

/// Local. Creates the parent directory of `path` if missing and checks that files can be
/// created in it, and that the longest name written beside it (temporary, lock) fits the file
/// system's limit (pathconf NAME_MAX); throws naming the directory and the config key.
void prepare_output_directory(const std::string& path, const std::string& key,
                              const std::string& tag);

/// Local (rank 0). An exclusive lock on "<path>.lock", held from construction to destruction
/// (flock: released by the kernel if the process dies, so a killed job never blocks later
/// ones). Construction throws IoError naming the holder when another job holds it.
class OutputLock {
 public:
  OutputLock(const std::string& path, const std::string& key, const std::string& tag);
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&&) = delete;
  OutputLock(const OutputLock&) = delete;
  ~OutputLock();

 private:
  std::string lock_path_;
  int fd_ = -1;
};

/// Local (rank 0, holding the output's lock). Removes temporaries of `path` left by processes
/// that are gone (same host, pid no longer running); returns one line per removed file.
std::vector<std::string> remove_stale_temporaries(const std::string& path);

/// Local (rank 0). Everything before writing `path`: its directory checked, the lock taken,
/// stale temporaries removed (each one logged as a warning).
OutputLock claim_output(const std::string& path, const std::string& key, const std::string& tag,
                        const Log& log);

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
