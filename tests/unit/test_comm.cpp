// Comm implementations in one process: ThreadComm with 1..16 thread ranks against values
// computed independently (closed forms, plain loops), and SerialComm's point-to-point case.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "../support/comm_checks.hpp"
#include "hpcad/comm/comm.hpp"
#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

using std::chrono::milliseconds;
using testing_support::block_of;
using testing_support::check_ring_pass;
using testing_support::check_shifts;
using testing_support::check_typed_gathers;

// A deadlock must fail the suite at once instead of hanging it: a run that does not end
// within `limit` aborts the test binary.
void run_within(milliseconds limit, int n_ranks, const std::function<void(Comm&)>& body) {
  auto done = std::async(std::launch::async, [&] { run_on_threads(n_ranks, body); });
  if (done.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "run_on_threads(%d) did not end within %lld ms\n", n_ranks,
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  done.get();
}

void run(int n_ranks, const std::function<void(Comm&)>& body) {
  run_within(milliseconds(20000), n_ranks, body);
}

std::vector<std::byte> bytes_of(const std::string& text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(p, p + text.size());
}

class ThreadCommRanks : public testing::TestWithParam<int> {};

TEST_P(ThreadCommRanks, RankAndSize) {
  const int n = GetParam();
  run(n, [&](Comm& comm) {
    EXPECT_EQ(comm.size(), n);
    std::vector<int> expected(n);
    for (int r = 0; r < n; ++r) expected[r] = r;
    EXPECT_EQ(comm.allgather(comm.rank()), expected);
  });
}

TEST_P(ThreadCommRanks, AllreduceInt64) {
  const int n = GetParam();
  run(n, [&](Comm& comm) {
    const std::int64_t r = comm.rank();
    std::vector<std::int64_t> v{r + 1, -r * 1'000'000'000'000, 7};
    comm.allreduce(v, ReduceOp::kSum);
    EXPECT_EQ(v, (std::vector<std::int64_t>{std::int64_t{n} * (n + 1) / 2,
                                            -std::int64_t{n} * (n - 1) / 2 * 1'000'000'000'000,
                                            7 * std::int64_t{n}}));
    EXPECT_EQ(comm.allreduce_value(r + 1, ReduceOp::kMin), 1);
    EXPECT_EQ(comm.allreduce_value(r + 1, ReduceOp::kMax), n);
    EXPECT_EQ(comm.allreduce_value(-r, ReduceOp::kMin), -(n - 1));
    std::vector<std::int64_t> none;
    comm.allreduce(none, ReduceOp::kSum);
    EXPECT_TRUE(none.empty());
  });
}

TEST_P(ThreadCommRanks, AllreduceDoubleSumsInRankOrder) {
  const int n = GetParam();
  const auto value = [](int rank) { return 0.1 * (rank + 1) + 1e-17 * rank; };
  double expected = 0;
  for (int r = 0; r < n; ++r) expected += value(r);
  run(n, [&](Comm& comm) {
    std::vector<double> v{value(comm.rank()), -1.5 * comm.rank()};
    comm.allreduce(v, ReduceOp::kSum);
    EXPECT_EQ(v[0], expected);  // bitwise: the order is fixed
    EXPECT_EQ(v[1], -1.5 * n * (n - 1) / 2);
    EXPECT_EQ(comm.allreduce_value(value(comm.rank()), ReduceOp::kMin), value(0));
    EXPECT_EQ(comm.allreduce_value(value(comm.rank()), ReduceOp::kMax), value(n - 1));
  });
}

TEST_P(ThreadCommRanks, AllgathervUnevenAndEmpty) {
  const int n = GetParam();
  run(n, [&](Comm& comm) {
    check_typed_gathers(comm);
    const auto mine = block_of(comm.rank());
    const auto parts = comm.allgatherv(std::as_bytes(std::span(mine)));
    ASSERT_EQ(parts.size(), static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) EXPECT_EQ(parts[r].size(), r * sizeof(std::int64_t));
  });
}

TEST_P(ThreadCommRanks, BroadcastFromEveryRoot) {
  const int n = GetParam();
  run(n, [&](Comm& comm) {
    for (int root = n - 1; root >= 0; --root) {
      const std::string text = "from root " + std::to_string(root);
      std::vector<std::byte> data = bytes_of(comm.rank() == root ? text : "other rank's junk");
      comm.broadcast(data, root);
      EXPECT_EQ(data, bytes_of(text));
      EXPECT_EQ(comm.broadcast_string(comm.rank() == root ? "" : "x", root), "");
    }
  });
}

TEST_P(ThreadCommRanks, ExscanAndBarrier) {
  const int n = GetParam();
  std::atomic<int> arrived{0};
  run(n, [&](Comm& comm) {
    const std::int64_t r = comm.rank();
    EXPECT_EQ(comm.exscan_sum(r + 1), r * (r + 1) / 2);
    for (int round = 1; round <= 20; ++round) {
      ++arrived;
      comm.barrier();
      EXPECT_EQ(arrived.load(), round * n);  // nobody has passed the next barrier's increment
      comm.barrier();
    }
  });
}

TEST_P(ThreadCommRanks, ShiftWithEmptySends) { run(GetParam(), check_shifts); }

TEST_P(ThreadCommRanks, RingPassGivesEveryoneEveryBlock) { run(GetParam(), check_ring_pass); }

TEST_P(ThreadCommRanks, ThousandsOfMixedCallsOfVaryingSize) {
  const int n = GetParam();
  run(n, [&](Comm& comm) {
    const std::int64_t r = comm.rank();
    for (std::int64_t i = 0; i < 2000; ++i) {
      std::vector<std::int64_t> v(static_cast<std::size_t>(i % 5), r + i);
      comm.allreduce(v, ReduceOp::kSum);
      for (std::int64_t x : v) ASSERT_EQ(x, std::int64_t{n} * (n - 1) / 2 + n * i);
      const std::vector<std::int64_t> mine(static_cast<std::size_t>((i + r) % 4), i);
      const auto all = comm.allgatherv(std::span<const std::int64_t>(mine));
      std::size_t expected_size = 0;
      for (int s = 0; s < n; ++s) expected_size += static_cast<std::size_t>((i + s) % 4);
      ASSERT_EQ(all.size(), expected_size);
      ASSERT_EQ(comm.exscan_sum(i), i * r);
      const std::vector<std::int64_t> from_left =
          comm.shift(std::span<const std::int64_t>(mine), 1);
      ASSERT_EQ(from_left.size(), r == 0 ? 0u : static_cast<std::size_t>((i + r - 1) % 4));
    }
  });
}

TEST_P(ThreadCommRanks, GuardedPhaseReportsTheLowestFailingRankEverywhere) {
  const int n = GetParam();
  std::atomic<int> peer_errors{0};
  run(n, [&](Comm& comm) {
    try {
      guarded_phase(comm, "read", [&] {
        if (comm.rank() == n - 1) throw DataError("bad row on the last rank");
      });
      ADD_FAILURE() << "no error raised on rank " << comm.rank();
    } catch (const PeerError& e) {
      ++peer_errors;
      EXPECT_EQ(e.failed_rank(), n - 1);
      EXPECT_EQ(e.failed_count(), 1);
      EXPECT_EQ(e.phase(), "read");
      EXPECT_STREQ(e.what(), "bad row on the last rank");
    }
    // The upper half fails: the lowest of them is reported, the count says how many.
    const int first_failing = n / 2;
    try {
      guarded_phase(comm, "fit", [&] {
        if (comm.rank() >= first_failing)
          throw IoError("failure on rank " + std::to_string(comm.rank()));
      });
      ADD_FAILURE() << "no error raised on rank " << comm.rank();
    } catch (const PeerError& e) {
      ++peer_errors;
      EXPECT_EQ(e.failed_rank(), first_failing);
      EXPECT_EQ(e.failed_count(), n - first_failing);
      EXPECT_EQ(e.what(), "failure on rank " + std::to_string(first_failing));
    }
    EXPECT_NO_THROW(guarded_phase(comm, "ok", [] {}));
  });
  EXPECT_EQ(peer_errors.load(), 2 * n);
}

TEST_P(ThreadCommRanks, UnguardedThrowReleasesRanksBlockedInCollectives) {
  const int n = GetParam();
  const auto body = [&](Comm& comm) {
    if (comm.rank() == n / 2) throw DataError("rank " + std::to_string(n / 2) + " gave up");
    comm.allreduce_value(1.0, ReduceOp::kSum);  // waits for the rank that never comes
    comm.barrier();
  };
  try {
    run_within(milliseconds(1000), n, body);
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_EQ(e.what(), "rank " + std::to_string(n / 2) + " gave up");
  }
  const auto errors = run_on_threads_collect(n, body);
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(errors[r]) << "rank " << r;
    if (r == n / 2) continue;
    try {
      std::rethrow_exception(errors[r]);
    } catch (const ThreadCommAborted& e) {
      EXPECT_NE(std::string(e.what()).find("rank " + std::to_string(n / 2) + " threw"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST_P(ThreadCommRanks, RankReturningEarlyReleasesTheOthers) {
  const int n = GetParam();
  if (n == 1) GTEST_SKIP() << "needs a second rank";
  try {
    run_within(milliseconds(1000), n, [&](Comm& comm) {
      if (comm.rank() == 0) return;  // a mismatched collective: the others would hang
      comm.barrier();
    });
    FAIL() << "no exception";
  } catch (const ThreadCommAborted& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0 returned"), std::string::npos) << e.what();
  }
  // A receive from a rank that returned without sending fails too; one that sent succeeds.
  const auto errors = run_on_threads_collect(n, [&](Comm& comm) {
    if (comm.rank() == 0) {
      comm.sendrecv(bytes_of("x"), 1, -1);
      return;
    }
    EXPECT_EQ(comm.sendrecv({}, -1, 0).size(), comm.rank() == 1 ? 1u : 0u);
  });
  for (int r = 0; r < 2; ++r) EXPECT_FALSE(errors[r]);
  for (int r = 2; r < n; ++r) EXPECT_TRUE(errors[r]);
}

INSTANTIATE_TEST_SUITE_P(Ranks, ThreadCommRanks, testing::Values(1, 2, 3, 4, 7, 16));

TEST(SerialComm, SendrecvToSelfAndShift) {
  SerialComm comm;
  const std::vector<std::byte> bytes = bytes_of("abc");
  EXPECT_EQ(comm.sendrecv(bytes, 0, 0), bytes);
  EXPECT_TRUE(comm.sendrecv(bytes, -1, -1).empty());
  const std::vector<double> v{1.5, -2};
  EXPECT_EQ(comm.shift(std::span<const double>(v), 0), v);
  EXPECT_TRUE(comm.shift(std::span<const double>(v), 1).empty());
  EXPECT_TRUE(comm.shift(std::span<const double>(v), -1).empty());
  EXPECT_EQ(comm.allgatherv(std::span<const double>(v)), v);
  EXPECT_EQ(comm.allgather(std::int64_t{7}), std::vector<std::int64_t>{7});
}

}  // namespace
}  // namespace hpcad
