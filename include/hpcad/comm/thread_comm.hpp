#pragma once
/// A Comm whose ranks are threads of one process, so that distributed algorithms can be
/// tested with 1..16 ranks in milliseconds, without MPI. Every collective has MPI's
/// semantics; the double sum is computed in rank order (rank 0 + rank 1 + ...), so it is
/// deterministic for a given rank count.
///
/// Failure: a rank whose body throws (outside a guarded phase) or returns while the others
/// still communicate can never reach their next collective. Instead of letting them hang,
/// the group is then broken: every pending and later collective on the other ranks throws
/// ThreadCommAborted, so all threads unwind and run_on_threads returns.
#include <exception>
#include <functional>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {

/// Thrown by a ThreadComm call when another rank of the group failed or left, so this
/// call can never complete. Names that rank and why.
class ThreadCommAborted : public InternalError {
 public:
  using InternalError::InternalError;
};

/// The state the ranks of one run_on_threads share (defined in thread_comm.cpp).
class ThreadGroup;

/// One rank of a group of threads. Created only by run_on_threads; used only by its thread.
class ThreadComm final : public Comm {
 public:
  ThreadComm(ThreadGroup& group, int rank);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce(std::span<double> values, ReduceOp op) override;
  void allreduce(std::span<std::int64_t> values, ReduceOp op) override;
  std::vector<std::vector<std::byte>> allgatherv(std::span<const std::byte> local) override;
  void broadcast(std::vector<std::byte>& data, int root) override;
  std::int64_t exscan_sum(std::int64_t value) override;
  void barrier() override;
  std::vector<std::byte> sendrecv(std::span<const std::byte> send, int dest, int source) override;
  using Comm::allgatherv;

 private:
  template <typename T>
  void reduce(std::span<T> values, ReduceOp op);

  ThreadGroup& group_;
  int rank_;
  int size_;
  /// Collectives this rank has entered; its parity selects the slot set (see ThreadGroup).
  std::uint64_t round_ = 0;
};

/// Runs `body(comm)` on `n_ranks` threads, rank r getting a ThreadComm of rank r; returns
/// after every thread has ended. Returns each rank's exception, or null where `body`
/// returned. A rank that failed or left breaks the group (see above), so the other ranks'
/// entries may hold ThreadCommAborted.
std::vector<std::exception_ptr> run_on_threads_collect(int n_ranks,
                                                       const std::function<void(Comm&)>& body);

/// Runs `body(comm)` on `n_ranks` threads like run_on_threads_collect, then rethrows the
/// exception of the lowest rank that failed by itself (not with ThreadCommAborted), or, if
/// there is none, the lowest rank's ThreadCommAborted.
void run_on_threads(int n_ranks, const std::function<void(Comm&)>& body);

}  // namespace hpcad
