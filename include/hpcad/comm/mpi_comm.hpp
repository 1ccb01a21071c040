#pragma once
/// The MPI implementation of Comm. Owns no MPI lifetime: main() initialises and
/// finalises MPI; this only wraps a communicator.
#include <mpi.h>

#include "hpcad/comm/comm.hpp"

namespace hpcad {

class MpiComm final : public Comm {
 public:
  /// Wraps `comm` (not duplicated, not freed).
  explicit MpiComm(MPI_Comm comm = MPI_COMM_WORLD);

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

  /// The wrapped communicator, for MPI-aware I/O (parallel HDF5).
  MPI_Comm native() const { return comm_; }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

/// Throws IoError carrying MPI's own error string when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* call);

}  // namespace hpcad
