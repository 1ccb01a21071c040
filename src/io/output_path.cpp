#include "hpcad/io/output_path.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>

#include "hpcad/core/error.hpp"

namespace fs = std::filesystem;

namespace hpcad {

namespace {

constexpr std::string_view kTemporaryInfix = ".tmp-";
constexpr std::string_view kLockSuffix = ".lock";

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

fs::path parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// The owner recorded in a temporary's name: "<job>.p<pid>@<host>".
struct TemporaryOwner {
  long pid = 0;
  std::string host;
};

std::optional<TemporaryOwner> parse_tag(const std::string& tag) {
  const auto at = tag.rfind('@');
  const auto p = tag.rfind(".p", at);
  if (at == std::string::npos || p == std::string::npos || p + 2 >= at) return std::nullopt;
  TemporaryOwner owner;
  const char* first = tag.data() + p + 2;
  const auto [end, error] = std::from_chars(first, tag.data() + at, owner.pid);
  if (error != std::errc() || end != tag.data() + at || owner.pid <= 0) return std::nullopt;
  owner.host = tag.substr(at + 1);
  return owner;
}

std::string read_small_file(int fd) {
  char text[512] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string("unknown");
}

}  // namespace

std::string temporary_tag(const std::string& job_id) {
  return fmt::format("{}.p{}@{}", job_id, ::getpid(), host_name());
}

std::string temporary_path(const std::string& path, const std::string& tag) {
  return path + std::string(kTemporaryInfix) + tag;
}

void refuse_colliding_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::vector<fs::path> normal;
  for (const auto& [key, path] : outputs) {
    if (path.empty()) throw ConfigError(fmt::format("{} is empty; a file name is needed", key));
    std::error_code ec;
    normal.push_back(fs::weakly_canonical(fs::absolute(path), ec).lexically_normal());
    for (std::size_t i = 0; i + 1 < normal.size(); ++i)
      if (normal[i] == normal.back())
        throw ConfigError(
            fmt::format("{} = \"{}\" and {} = \"{}\" are the same file; every "
                        "output needs its own path",
                        outputs[i].first, outputs[i].second, key, path));
  }
}

void prepare_output_directory(const std::string& path, const std::string& key,
                              const std::string& tag) {
  const fs::path parent = parent_of(path);
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
  const long name_max = ::pathconf(parent.c_str(), _PC_NAME_MAX);
  const std::size_t longest = fs::path(path).filename().string().size() +
                              std::max(kTemporaryInfix.size() + tag.size(), kLockSuffix.size());
  if (name_max > 0 && longest > static_cast<std::size_t>(name_max))
    throw ConfigError(fmt::format(
        "{} = \"{}\": the file name is too long: {} allows {} characters and hpcad needs {} "
        "(the name plus \"{}{}\" for its temporary)",
        key, path, parent.string(), name_max, longest, kTemporaryInfix, tag));
}

OutputLock::OutputLock(const std::string& path, const std::string& key, const std::string& tag)
    : lock_path_(path + std::string(kLockSuffix)) {
  // The lock file is removed on release; a job that opened it just before then would hold a
  // lock on a deleted file, so it checks that the file it locked is still the one at the path.
  while (true) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
      throw IoError(fmt::format("{} = \"{}\": cannot create the lock file {}: {}", key, path,
                                lock_path_, std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = read_small_file(fd);
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw IoError(fmt::format(
            "{} = \"{}\": another hpcad job is writing this output (lock {} held by {}); "
            "wait for it to finish or choose other output paths",
            key, path, lock_path_, holder));
      throw IoError(fmt::format("{} = \"{}\": cannot lock {}: {}", key, path, lock_path_,
                                std::strerror(error)));
    }
    struct stat held {
    }, current{};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  // The owner line only serves another job's message; the lock holds without it.
  const std::string owner = "job " + tag;
  [[maybe_unused]] const bool noted =
      ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, owner.data(), owner.size(), 0) > 0;
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : lock_path_(std::move(other.lock_path_)), fd_(std::exchange(other.fd_, -1)) {}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

OutputLock claim_output(const std::string& path, const std::string& key, const std::string& tag,
                        const Log& log) {
  prepare_output_directory(path, key, tag);
  OutputLock lock(path, key, tag);
  for (const std::string& removed : remove_stale_temporaries(path))
    log.warn("removed stale temporary {}", removed);
  return lock;
}

std::vector<std::string> remove_stale_temporaries(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + std::string(kTemporaryInfix);
  const std::string here = host_name();
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent_of(path), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const auto owner = parse_tag(name.substr(prefix.size()));
    // Only a process on this host can be checked; pid reuse errs on the side of keeping.
    if (!owner || owner->host != here || ::kill(static_cast<pid_t>(owner->pid), 0) == 0 ||
        errno != ESRCH)
      continue;
    std::error_code remove_error;
    if (fs::remove(entry.path(), remove_error))
      removed.push_back(
          fmt::format("{} (pid {} on {} is gone)", entry.path().string(), owner->pid, owner->host));
  }
  return removed;
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
