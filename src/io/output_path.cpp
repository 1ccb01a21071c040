#include "hpcad/io/output_path.hpp"

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
