#include "hpcad/comm/comm.hpp"

#include <cstring>

#include "hpcad/core/error.hpp"

namespace hpcad {

double Comm::allreduce_value(double value, ReduceOp op) {
  allreduce(std::span<double>(&value, 1), op);
  return value;
}

std::int64_t Comm::allreduce_value(std::int64_t value, ReduceOp op) {
  allreduce(std::span<std::int64_t>(&value, 1), op);
  return value;
}

std::string Comm::broadcast_string(std::string text, int root) {
  std::vector<std::byte> bytes(text.size());
  if (!text.empty()) std::memcpy(bytes.data(), text.data(), text.size());
  broadcast(bytes, root);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool Comm::all_ok(bool ok) {
  return allreduce_value(std::int64_t{ok ? 1 : 0}, ReduceOp::kMin) == 1;
}

void guarded_phase(Comm& comm, const std::string& phase, const std::function<void()>& body) {
  std::string message;
  bool ok = true;
  std::int64_t signal = 0;
  try {
    body();
  } catch (const PeerError&) {
    throw;  // already agreed on by every rank inside a nested phase
  } catch (const Interrupted& e) {
    ok = false;
    message = e.what();
    signal = e.signal();
  } catch (const std::exception& e) {
    ok = false;
    message = e.what();
  }
  // One allreduce decides whether anyone failed and who failed first.
  std::int64_t first_failed = ok ? comm.size() : comm.rank();
  std::int64_t failed_count = ok ? 0 : 1;
  first_failed = comm.allreduce_value(first_failed, ReduceOp::kMin);
  if (first_failed == comm.size()) return;
  failed_count = comm.allreduce_value(failed_count, ReduceOp::kSum);
  // A signal seen by any rank decides the exit code, whichever rank failed first.
  signal = comm.allreduce_value(signal, ReduceOp::kMax);
  message = comm.broadcast_string(message, static_cast<int>(first_failed));
  throw PeerError(static_cast<int>(first_failed), static_cast<int>(failed_count), phase, message,
                  static_cast<int>(signal));
}

}  // namespace hpcad
