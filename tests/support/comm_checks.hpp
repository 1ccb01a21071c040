#pragma once
// Checks of the typed gathers and the point-to-point exchange that hold for any Comm: the unit
// tests run them on ThreadComm, the MPI tests on MpiComm. Each is collective and reports
// through GoogleTest assertions on the calling rank.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "hpcad/comm/comm.hpp"

namespace hpcad::testing_support {

/// Rank r's rank-tagged block: r values (rank 0's is empty), so sizes are uneven.
inline std::vector<std::int64_t> block_of(int rank) {
  std::vector<std::int64_t> block;
  for (int i = 0; i < rank; ++i) block.push_back(100 * rank + i);
  return block;
}

/// Collective. allgatherv concatenates uneven and empty blocks in rank order; allgather
/// returns one aggregate per rank.
inline void check_typed_gathers(Comm& comm) {
  const int n = comm.size();
  std::vector<std::int64_t> expected;
  for (int r = 0; r < n; ++r) {
    const auto block = block_of(r);
    expected.insert(expected.end(), block.begin(), block.end());
  }
  const auto mine = block_of(comm.rank());
  EXPECT_EQ(comm.allgatherv(std::span<const std::int64_t>(mine)), expected);
  EXPECT_TRUE(comm.allgatherv(std::span<const double>()).empty());
  const std::array<std::int64_t, 3> triple{comm.rank(), -1, 2 * comm.rank()};
  const auto triples = comm.allgather(triple);
  ASSERT_EQ(triples.size(), static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) EXPECT_EQ(triples[r], (std::array<std::int64_t, 3>{r, -1, 2 * r}));
}

/// Collective. shift by +1, -1, +2, 0 and size(), with some sends empty: every rank gets
/// what rank() - offset sent, or nothing where that is not a rank.
inline void check_shifts(Comm& comm) {
  const int n = comm.size(), r = comm.rank();
  const auto send_of = [](int rank) { return std::vector<double>(rank % 3, rank + 0.5); };
  for (int offset : {1, -1, 2, 0, n}) {
    const auto mine = send_of(r);
    const auto got = comm.shift(std::span<const double>(mine), offset);
    const int source = r - offset;
    EXPECT_EQ(got, source >= 0 && source < n ? send_of(source) : std::vector<double>())
        << "offset " << offset << " on rank " << r;
  }
}

/// Collective. Each rank passes a block around the ring size() - 1 times with sendrecv and
/// ends up having seen every rank's block.
inline void check_ring_pass(Comm& comm) {
  const int n = comm.size(), r = comm.rank();
  std::vector<std::vector<std::int64_t>> seen(n);
  seen[r] = block_of(r);
  std::vector<std::int64_t> passing = seen[r];
  for (int step = 1; step < n; ++step) {
    const auto bytes =
        comm.sendrecv(std::as_bytes(std::span(passing)), (r + 1) % n, (r + n - 1) % n);
    passing = bytes_to_values<std::int64_t>(bytes);
    seen[(r + n - step) % n] = passing;
  }
  for (int s = 0; s < n; ++s) EXPECT_EQ(seen[s], block_of(s)) << "block " << s << " on " << r;
}

}  // namespace hpcad::testing_support
