#include "hpcad/comm/mpi_comm.hpp"

#include <limits>
#include <string>

#include "hpcad/core/error.hpp"

namespace hpcad {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw IoError(std::string(call) + " failed: " + std::string(text, length));
}

namespace {

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kMax:
      return MPI_MAX;
  }
  return MPI_SUM;
}

int checked_count(std::size_t n) {
  check_internal(n <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                 "MPI message larger than 2^31 elements");
  return static_cast<int>(n);
}

}  // namespace

MpiComm::MpiComm(MPI_Comm comm) : comm_(comm) {
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void MpiComm::allreduce(std::span<double> values, ReduceOp op) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), checked_count(values.size()), MPI_DOUBLE,
                          to_mpi(op), comm_),
            "MPI_Allreduce");
}

void MpiComm::allreduce(std::span<std::int64_t> values, ReduceOp op) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), checked_count(values.size()), MPI_INT64_T,
                          to_mpi(op), comm_),
            "MPI_Allreduce");
}

std::vector<std::vector<std::byte>> MpiComm::allgatherv(std::span<const std::byte> local) {
  const int local_count = checked_count(local.size());
  std::vector<int> counts(size_);
  check_mpi(MPI_Allgather(&local_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_),
            "MPI_Allgather");
  std::vector<int> displs(size_);
  std::size_t total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = checked_count(total);
    total += static_cast<std::size_t>(counts[r]);
  }
  checked_count(total);
  std::vector<std::byte> all(total);
  check_mpi(MPI_Allgatherv(local.data(), local_count, MPI_BYTE, all.data(), counts.data(),
                           displs.data(), MPI_BYTE, comm_),
            "MPI_Allgatherv");
  std::vector<std::vector<std::byte>> parts(size_);
  for (int r = 0; r < size_; ++r)
    parts[r].assign(all.begin() + displs[r], all.begin() + displs[r] + counts[r]);
  return parts;
}

void MpiComm::broadcast(std::vector<std::byte>& data, int root) {
  std::int64_t size = static_cast<std::int64_t>(data.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_INT64_T, root, comm_), "MPI_Bcast");
  data.resize(static_cast<std::size_t>(size));
  check_mpi(MPI_Bcast(data.data(), checked_count(data.size()), MPI_BYTE, root, comm_), "MPI_Bcast");
}

std::int64_t MpiComm::exscan_sum(std::int64_t value) {
  std::int64_t result = 0;
  check_mpi(MPI_Exscan(&value, &result, 1, MPI_INT64_T, MPI_SUM, comm_), "MPI_Exscan");
  return rank_ == 0 ? 0 : result;  // MPI leaves rank 0's result undefined
}

void MpiComm::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace hpcad

namespace hpcad {

std::vector<std::byte> MpiComm::sendrecv(std::span<const std::byte> send, int dest, int source) {
  // Sizes first, so the receiver can size its buffer; then the payload.
  const int dest_rank = dest < 0 ? MPI_PROC_NULL : dest;
  const int source_rank = source < 0 ? MPI_PROC_NULL : source;
  std::int64_t send_size = static_cast<std::int64_t>(send.size()), receive_size = 0;
  check_mpi(MPI_Sendrecv(&send_size, 1, MPI_INT64_T, dest_rank, 0, &receive_size, 1, MPI_INT64_T,
                         source_rank, 0, comm_, MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
  std::vector<std::byte> received(static_cast<std::size_t>(receive_size));
  check_mpi(MPI_Sendrecv(send.data(), checked_count(send.size()), MPI_BYTE, dest_rank, 1,
                         received.data(), checked_count(received.size()), MPI_BYTE, source_rank, 1,
                         comm_, MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
  return received;
}

}  // namespace hpcad
