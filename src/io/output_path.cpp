#include "hpcad/io/output_path.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "hpcad/core/error.hpp"

namespace fs = std::filesystem;

namespace hpcad {

std::string temporary_path(const std::string& path, const std::string& job_id) {
  return path + ".tmp-" + job_id;
}

void prepare_output_directory(const std::string& path, const std::string& key) {
  const fs::path parent =
      fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    throw IoError(fmt::format("{} = \"{}\": cannot create directory {}: {}", key, path,
                              parent.string(), ec.message()));
  if (fs::is_directory(path))
    throw IoError(fmt::format("{} = \"{}\": is a directory, expected a file name", key, path));
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    throw IoError(fmt::format("{} = \"{}\": directory {} is not writable: {}", key, path,
                              parent.string(), std::strerror(errno)));
}

void write_whole_file(const std::string& path, std::span<const std::byte> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw IoError(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw IoError(fmt::format("{}: write failed: {}", path, std::strerror(error)));
    }
    done += static_cast<std::size_t>(n);
  }
  // Network file systems report a full disk or quota at fsync or close, not at write.
  const int sync_error = ::fsync(fd) == 0 ? 0 : errno;
  const int close_error = ::close(fd) == 0 ? 0 : errno;
  if (sync_error != 0 || close_error != 0)
    throw IoError(fmt::format("{}: write failed: {}", path,
                              std::strerror(sync_error != 0 ? sync_error : close_error)));
}

void reserve_space(const std::string& path, std::int64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  // KEEP_SIZE: the blocks are allocated but the file's length stays what the writer makes it.
  const int status = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, bytes);
  const int error = errno;
  ::close(fd);
  if (status != 0 && error != EOPNOTSUPP && error != ENOSYS)
    throw IoError(fmt::format("{}: cannot reserve {} MiB for writing: {}", path, (bytes >> 20) + 1,
                              std::strerror(error)));
}

void commit_output(const std::string& temporary, const std::string& final_path) {
  std::error_code ec;
  fs::rename(temporary, final_path, ec);
  if (ec)
    throw IoError(fmt::format("cannot rename {} to {}: {}", temporary, final_path, ec.message()));
}

void discard_output(const std::string& temporary) noexcept {
  std::error_code ec;
  fs::remove(temporary, ec);
}

void refuse_overwriting_input(const std::string& output, const std::string& output_key,
                              const std::string& input) {
  std::error_code ec;
  const bool same = fs::exists(output, ec) && fs::exists(input, ec)
                        ? fs::equivalent(output, input, ec)
                        : fs::weakly_canonical(output, ec) == fs::weakly_canonical(input, ec);
  if (same)
    throw ConfigError(fmt::format("{} = \"{}\" is the input file; refusing to overwrite an input",
                                  output_key, output));
}

}  // namespace hpcad
