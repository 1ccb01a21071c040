#pragma once
/// Error types. Every message names the file, key, row or rank involved,
/// what was expected and what was seen.
#include <stdexcept>
#include <string>

namespace hpcad {

/// Base of every error hpcad raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A bad configuration file, `--set` override or command-line value.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A file that cannot be opened, read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

/// Input data that is malformed or unusable (bad values, wrong shape, corrupt file contents).
class DataError : public Error {
 public:
  using Error::Error;
};

/// A broken invariant inside hpcad: a bug, never the user's fault.
class InternalError : public Error {
 public:
  using Error::Error;
};

/// A stop requested by a signal (SIGTERM, SIGINT), raised at the next block boundary.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

/// Raised on every rank when some rank failed inside a guarded phase; carries the
/// failing rank's own message so rank 0 can report it once.
class PeerError : public Error {
 public:
  PeerError(int failed_rank, int failed_count, std::string phase, const std::string& message,
            int signal = 0)
      : Error(message),
        failed_rank_(failed_rank),
        failed_count_(failed_count),
        phase_(std::move(phase)),
        signal_(signal) {}
  int failed_rank() const { return failed_rank_; }
  int failed_count() const { return failed_count_; }
  const std::string& phase() const { return phase_; }
  /// The signal that interrupted the job when the failure is an Interrupted, else 0.
  int signal() const { return signal_; }

 private:
  int failed_rank_;
  int failed_count_;
  std::string phase_;
  int signal_;
};

/// Throws InternalError when an invariant does not hold. For internal checks only;
/// never use on file contents or user input (those get typed errors).
inline void check_internal(bool condition, const char* what) {
  if (!condition) throw InternalError(std::string("internal check failed: ") + what);
}

}  // namespace hpcad
