#include "hpcad/core/log.hpp"

#include <cstdio>

namespace hpcad {

double Log::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Log::emit(std::string_view prefix, std::string_view message) const {
  // One fwrite per line so lines from different ranks do not interleave mid-line.
  const std::string line =
      fmt::format("[hpcad r{}/{} +{:.2f}s] {}{}\n", rank_, size_, elapsed(), prefix, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace hpcad
