#pragma once
/// The communication interface every distributed algorithm uses. Algorithms call the
/// collectives unconditionally; the one-process case lives inside the implementations.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace hpcad {

enum class ReduceOp { kSum, kMin, kMax };

/// A group of ranks. Every method marked Collective must be called by all ranks in the
/// same order with compatible arguments.
class Comm {
 public:
  virtual ~Comm() = default;

  /// Local. This rank's index in [0, size()).
  virtual int rank() const = 0;
  /// Local. Number of ranks.
  virtual int size() const = 0;

  /// Collective. Element-wise reduction in place; every rank gets the result.
  virtual void allreduce(std::span<double> values, ReduceOp op) = 0;
  /// Collective. Element-wise reduction in place; every rank gets the result.
  virtual void allreduce(std::span<std::int64_t> values, ReduceOp op) = 0;

  /// Collective. Gathers every rank's bytes on every rank, in rank order.
  virtual std::vector<std::vector<std::byte>> allgatherv(std::span<const std::byte> local) = 0;

  /// Collective. Replaces `data` on every rank with root's `data`.
  virtual void broadcast(std::vector<std::byte>& data, int root) = 0;

  /// Collective. Sum of `value` over ranks 0..rank()-1 (0 on rank 0).
  virtual std::int64_t exscan_sum(std::int64_t value) = 0;

  /// Collective. Blocks until every rank has arrived.
  virtual void barrier() = 0;

  /// Collective (every rank calls it once per exchange round). Sends `send` to rank `dest`
  /// and returns the bytes received from rank `source`; -1 for either means "none" (no
  /// send, or an empty result). Deadlock-free for rings and shifts (MPI_Sendrecv semantics).
  virtual std::vector<std::byte> sendrecv(std::span<const std::byte> send, int dest,
                                          int source) = 0;

  // Typed conveniences built on the virtual collectives.

  /// Collective. Scalar reduction.
  double allreduce_value(double value, ReduceOp op);
  /// Collective. Scalar reduction.
  std::int64_t allreduce_value(std::int64_t value, ReduceOp op);
  /// Collective. Broadcasts a string from root.
  std::string broadcast_string(std::string text, int root);
  /// Collective. Root's `values` on every rank (the others' `values` are ignored).
  template <typename T>
  std::vector<T> broadcast_values(std::span<const T> values, int root);
  /// Collective. True on every rank iff `ok` is true on every rank.
  bool all_ok(bool ok);

  /// Collective. Every rank's values concatenated in rank order, on every rank.
  template <typename T>
  std::vector<T> allgatherv(std::span<const T> local);
  /// Collective. One value per rank, in rank order, on every rank.
  template <typename T>
  std::vector<T> allgather(const T& value) {
    return allgatherv(std::span<const T>(&value, 1));
  }
  /// Collective. Every rank sends `send` to rank() + offset and receives what rank() - offset
  /// sent; ranks outside [0, size()) neither send nor receive (the result is empty).
  template <typename T>
  std::vector<T> shift(std::span<const T> send, int offset);
};

template <typename T>
std::vector<T> bytes_to_values(std::span<const std::byte> bytes) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

template <typename T>
std::vector<T> Comm::allgatherv(std::span<const T> local) {
  static_assert(std::is_trivially_copyable_v<T>);
  const std::vector<std::vector<std::byte>> parts = allgatherv(std::as_bytes(local));
  std::size_t bytes = 0;
  for (const auto& part : parts) bytes += part.size();
  // One allocation and one copy per part: gathered samples reach tens of megabytes.
  std::vector<T> all(bytes / sizeof(T));
  auto* out = reinterpret_cast<std::byte*>(all.data());
  for (const auto& part : parts) {
    if (!part.empty()) std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return all;
}

template <typename T>
std::vector<T> Comm::broadcast_values(std::span<const T> values, int root) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto bytes = std::as_bytes(values);
  std::vector<std::byte> data(bytes.begin(), bytes.end());
  broadcast(data, root);
  return bytes_to_values<T>(data);
}

template <typename T>
std::vector<T> Comm::shift(std::span<const T> send, int offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  const int dest = rank() + offset, source = rank() - offset;
  return bytes_to_values<T>(sendrecv(std::as_bytes(send), dest >= 0 && dest < size() ? dest : -1,
                                     source >= 0 && source < size() ? source : -1));
}

/// Runs `body` as a named phase that may throw on some ranks only. Collective: every
/// rank agrees afterwards. If any rank failed, the lowest failing rank's message is
/// sent to all ranks and every rank throws PeerError carrying it (the failing rank too),
/// so the job can report once and exit cleanly instead of hanging in a later collective.
/// An Interrupted on any rank sets the PeerError's signal on every rank.
void guarded_phase(Comm& comm, const std::string& phase, const std::function<void()>& body);

/// The single-process Comm: every collective is the identity.
class SerialComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce(std::span<double>, ReduceOp) override {}
  void allreduce(std::span<std::int64_t>, ReduceOp) override {}
  std::vector<std::vector<std::byte>> allgatherv(std::span<const std::byte> local) override {
    return {std::vector<std::byte>(local.begin(), local.end())};
  }
  void broadcast(std::vector<std::byte>&, int) override {}
  std::int64_t exscan_sum(std::int64_t) override { return 0; }
  void barrier() override {}
  using Comm::allgatherv;
  std::vector<std::byte> sendrecv(std::span<const std::byte> send, int dest, int source) override {
    if (source == 0) return std::vector<std::byte>(send.begin(), send.end());
    return {};
  }
};

}  // namespace hpcad
