#pragma once
/// Logging to stderr as `[hpcad r0/4 +1.2s] message`. Rank 0 logs info; every rank may
/// log warnings and errors. Passed explicitly (no global logger).
#include <fmt/format.h>

#include <chrono>
#include <string_view>

namespace hpcad {

enum class LogLevel { kQuiet, kInfo, kDebug };

class Log {
 public:
  Log(int rank, int size, LogLevel level = LogLevel::kInfo)
      : rank_(rank), size_(size), level_(level), start_(std::chrono::steady_clock::now()) {}

  /// Local. Printed by rank 0 only, unless the level is quiet.
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    if (rank_ == 0 && level_ >= LogLevel::kInfo)
      emit("", fmt::format(format, std::forward<Args>(args)...));
  }
  /// Local. Printed by rank 0 only at debug level.
  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    if (rank_ == 0 && level_ >= LogLevel::kDebug)
      emit("", fmt::format(format, std::forward<Args>(args)...));
  }
  /// Local. Printed by whichever rank calls it.
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    emit("warning: ", fmt::format(format, std::forward<Args>(args)...));
  }
  /// Local. Printed by whichever rank calls it.
  void error(std::string_view message) const { emit("error: ", message); }

  /// Seconds since this Log was created.
  double elapsed() const;
  int rank() const { return rank_; }
  LogLevel level() const { return level_; }

 private:
  void emit(std::string_view prefix, std::string_view message) const;
  int rank_;
  int size_;
  LogLevel level_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace hpcad
