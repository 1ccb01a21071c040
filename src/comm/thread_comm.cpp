#include "hpcad/comm/thread_comm.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

namespace hpcad {

/// The ranks' shared state: a generation-counted barrier, one slot set per rank for the
/// collectives, and one mailbox per destination with a FIFO per source for sendrecv.
///
/// Collectives write their input into their own slot, pass the barrier and read the other
/// ranks' slots. Two slot sets alternate by round: a rank can only write round k + 2's
/// slots after every rank has arrived at round k + 1's barrier, that is, after every rank
/// has finished reading round k's. So one barrier per collective suffices.
class ThreadGroup {
 public:
  struct Slot {
    std::vector<std::byte> bytes;
    std::vector<double> f64;
    std::vector<std::int64_t> i64;
  };

  explicit ThreadGroup(int size) : size_(size), mailboxes_(size), left_(size) {
    for (auto& slots : slots_) slots.resize(size);
  }

  int size() const { return size_; }
  std::vector<Slot>& slots(std::uint64_t round) { return slots_[round & 1]; }

  /// Returns when every rank has arrived; throws ThreadCommAborted if that cannot happen.
  void arrive_and_wait(int rank) {
    std::uint32_t state = state_.load(std::memory_order_acquire);
    if (state & kFailed) abort(rank, "");
    const std::uint32_t generation = state & ~kFlags;
    // acq_rel: the last arriver sees every rank's slot writes and publishes them below.
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
      arrived_.store(0, std::memory_order_relaxed);
      state_.fetch_add(kGenerationStep, std::memory_order_release);
      state_.notify_all();
      return;
    }
    // A finished generation wins over a flag set after it: those ranks did arrive.
    while ((state & ~kFlags) == generation) {
      if (state & kFlags) {
        abort(rank, "rank " + std::to_string(first_left_.load()) +
                        " returned while this rank waits for it in a collective");
      }
      state_.wait(state, std::memory_order_acquire);
      state = state_.load(std::memory_order_acquire);
    }
  }

  void post(int source, int dest, std::vector<std::byte> message) {
    Mailbox& mailbox = mailboxes_[dest];
    {
      std::lock_guard lock(mailbox.mutex);
      mailbox.from[source].push_back(std::move(message));
    }
    mailbox.changed.notify_all();
  }

  /// The oldest message from `source` to `dest` (MPI's non-overtaking order).
  std::vector<std::byte> take(int source, int dest) {
    Mailbox& mailbox = mailboxes_[dest];
    std::unique_lock lock(mailbox.mutex);
    std::deque<std::vector<std::byte>>& queue = mailbox.from[source];
    mailbox.changed.wait(lock, [&] { return !queue.empty() || failed() || left_[source]; });
    // A message already sent is still delivered.
    if (queue.empty()) abort(dest, "rank " + std::to_string(source) + " returned without sending");
    std::vector<std::byte> message = std::move(queue.front());
    queue.pop_front();
    return message;
  }

  /// `rank` ended by an exception: every pending and later call of the others throws.
  void fail(int rank, const std::string& what) {
    {
      std::lock_guard lock(failure_mutex_);
      if (failure_.empty()) failure_ = "rank " + std::to_string(rank) + " threw: " + what;
    }
    disable(kFailed);
  }

  /// `rank` returned: the others' barriers (and receives from it) can no longer complete.
  void leave(int rank) {
    left_[rank] = true;
    int none = -1;
    first_left_.compare_exchange_strong(none, rank);
    disable(kLeft);
  }

 private:
  static constexpr std::uint32_t kFailed = 1, kLeft = 2, kFlags = 3, kGenerationStep = 4;

  struct Mailbox {
    std::mutex mutex;
    std::condition_variable changed;
    /// By source, created on first use: a dense size x size table of queues would cost
    /// gigabytes with thousands of ranks.
    std::map<int, std::deque<std::vector<std::byte>>> from;
  };

  bool failed() const { return (state_.load(std::memory_order_acquire) & kFailed) != 0; }

  void disable(std::uint32_t flag) {
    state_.fetch_or(flag, std::memory_order_release);
    state_.notify_all();
    // Taking each mailbox's lock orders the flag before its receiver's predicate check, so
    // no receiver misses the wake-up.
    for (Mailbox& mailbox : mailboxes_) {
      { std::lock_guard lock(mailbox.mutex); }
      mailbox.changed.notify_all();
    }
  }

  /// Throws for `rank`'s call: a failure is the root cause wherever it happened; otherwise
  /// `left_reason` says which departed rank the call was waiting for.
  [[noreturn]] void abort(int rank, const std::string& left_reason) const {
    std::string reason = left_reason;
    if (failed()) {
      std::lock_guard lock(failure_mutex_);
      reason = failure_;
    }
    throw ThreadCommAborted("ThreadComm rank " + std::to_string(rank) + " of " +
                            std::to_string(size_) + " abandons its call: " + reason);
  }

  const int size_;
  std::array<std::vector<Slot>, 2> slots_;
  /// Barrier generation in steps of kGenerationStep, plus the kFailed / kLeft flags.
  std::atomic<std::uint32_t> state_{0};
  std::atomic<int> arrived_{0};
  std::vector<Mailbox> mailboxes_;
  std::vector<std::atomic<bool>> left_;
  std::atomic<int> first_left_{-1};
  mutable std::mutex failure_mutex_;
  std::string failure_;  // the first failure: the root cause to report
};

namespace {

void check_rank(int rank, int size, bool none_allowed, const char* what) {
  if (rank >= (none_allowed ? -1 : 0) && rank < size) return;
  throw InternalError(std::string("ThreadComm: ") + what + " " + std::to_string(rank) +
                      " is not a rank of " + std::to_string(size));
}

template <typename T>
constexpr std::vector<T> ThreadGroup::Slot::*values_member() {
  if constexpr (std::is_same_v<T, double>) {
    return &ThreadGroup::Slot::f64;
  } else {
    return &ThreadGroup::Slot::i64;
  }
}

template <typename T>
T combine(T a, T b, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return a + b;
    case ReduceOp::kMin:
      return std::min(a, b);
    case ReduceOp::kMax:
      return std::max(a, b);
  }
  return a;
}

bool is_abort(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ThreadCommAborted&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace

ThreadComm::ThreadComm(ThreadGroup& group, int rank)
    : group_(group), rank_(rank), size_(group.size()) {}

template <typename T>
void ThreadComm::reduce(std::span<T> values, ReduceOp op) {
  constexpr auto member = values_member<T>();
  std::vector<ThreadGroup::Slot>& slots = group_.slots(round_++);
  (slots[rank_].*member).assign(values.begin(), values.end());
  group_.arrive_and_wait(rank_);
  for (const ThreadGroup::Slot& slot : slots)
    check_internal((slot.*member).size() == values.size(),
                   "ThreadComm allreduce: ranks passed different lengths");
  // Rank order, element by element: the same double sum on every rank and in every run.
  std::copy((slots[0].*member).begin(), (slots[0].*member).end(), values.begin());
  for (int r = 1; r < size_; ++r) {
    const std::vector<T>& other = slots[r].*member;
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = combine(values[i], other[i], op);
  }
}

void ThreadComm::allreduce(std::span<double> values, ReduceOp op) { reduce(values, op); }

void ThreadComm::allreduce(std::span<std::int64_t> values, ReduceOp op) { reduce(values, op); }

std::vector<std::vector<std::byte>> ThreadComm::allgatherv(std::span<const std::byte> local) {
  std::vector<ThreadGroup::Slot>& slots = group_.slots(round_++);
  slots[rank_].bytes.assign(local.begin(), local.end());
  group_.arrive_and_wait(rank_);
  std::vector<std::vector<std::byte>> all;
  all.reserve(slots.size());
  for (const ThreadGroup::Slot& slot : slots) all.push_back(slot.bytes);
  return all;
}

void ThreadComm::broadcast(std::vector<std::byte>& data, int root) {
  check_rank(root, size_, false, "broadcast root");
  std::vector<ThreadGroup::Slot>& slots = group_.slots(round_++);
  if (rank_ == root) slots[root].bytes = data;
  group_.arrive_and_wait(rank_);
  if (rank_ != root) data = slots[root].bytes;
}

std::int64_t ThreadComm::exscan_sum(std::int64_t value) {
  std::vector<ThreadGroup::Slot>& slots = group_.slots(round_++);
  slots[rank_].i64.assign(1, value);
  group_.arrive_and_wait(rank_);
  std::int64_t sum = 0;
  for (int r = 0; r < rank_; ++r) sum += slots[r].i64[0];
  return sum;
}

void ThreadComm::barrier() { group_.arrive_and_wait(rank_); }

std::vector<std::byte> ThreadComm::sendrecv(std::span<const std::byte> send, int dest, int source) {
  check_rank(dest, size_, true, "sendrecv dest");
  check_rank(source, size_, true, "sendrecv source");
  // Sends never block (as if buffered), so any pattern of matched pairs completes.
  if (dest >= 0) group_.post(rank_, dest, std::vector<std::byte>(send.begin(), send.end()));
  if (source < 0) return {};
  return group_.take(source, rank_);
}

std::vector<std::exception_ptr> run_on_threads_collect(int n_ranks,
                                                       const std::function<void(Comm&)>& body) {
  check_internal(n_ranks >= 1, "run_on_threads needs at least one rank");
  ThreadGroup group(n_ranks);
  std::vector<std::exception_ptr> errors(n_ranks);
  std::vector<std::thread> threads;
  threads.reserve(n_ranks);
  const auto run_rank = [&](int rank) {
    try {
      ThreadComm comm(group, rank);
      body(comm);
      group.leave(rank);
    } catch (...) {
      errors[rank] = std::current_exception();
      group.fail(rank, what_of(errors[rank]));
    }
  };
  try {
    for (int r = 0; r < n_ranks; ++r) threads.emplace_back(run_rank, r);
  } catch (...) {
    // The started ranks would wait forever for the missing one: release them first.
    group.fail(static_cast<int>(threads.size()), "its thread could not be started");
    for (std::thread& thread : threads) thread.join();
    throw;
  }
  for (std::thread& thread : threads) thread.join();
  return errors;
}

void run_on_threads(int n_ranks, const std::function<void(Comm&)>& body) {
  const std::vector<std::exception_ptr> errors = run_on_threads_collect(n_ranks, body);
  const auto cause = std::find_if(errors.begin(), errors.end(),
                                  [](const std::exception_ptr& e) { return e && !is_abort(e); });
  if (cause != errors.end()) std::rethrow_exception(*cause);
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace hpcad
