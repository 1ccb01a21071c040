// GoogleTest main for MPI tests: every rank runs every test; each rank's failures are
// gathered and printed by rank 0, and the process exit code is non-zero on every rank if
// any rank failed (as DLA-Future's gtest_mpi_listener does).
#include <gtest/gtest.h>
#include <mpi.h>

#include <iostream>
#include <string>

#include "hpcad/io/hdf5.hpp"

namespace {

class FailureCollector : public testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (result.failed())
      failures_ += std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) +
                   " at " + (result.file_name() ? result.file_name() : "?") + ":" +
                   std::to_string(result.line_number()) + "\n" + result.summary() + "\n";
  }
  const std::string& failures() const { return failures_; }

 private:
  std::string failures_;
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  hpcad::h5::silence_errors();
  testing::InitGoogleTest(&argc, argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) delete listeners.Release(listeners.default_result_printer());
  auto* collector = new FailureCollector;
  listeners.Append(collector);
  const int local_result = RUN_ALL_TESTS();

  // Gather every rank's failure text on rank 0.
  const std::string& text = collector->failures();
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(size);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> displs(size, 0);
  int total = 0;
  for (int r = 0; r < size; ++r) {
    displs[r] = total;
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  int any_failed = 0;
  MPI_Allreduce(&local_result, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) {
    for (int r = 0; r < size; ++r)
      if (lengths[r] > 0)
        std::cerr << "==== failures on rank " << r << " of " << size << ":\n"
                  << all.substr(displs[r], lengths[r]);
    std::cerr << (any_failed ? "MPI tests FAILED" : "MPI tests passed") << " on " << size
              << " ranks" << std::endl;
  }
  MPI_Finalize();
  return any_failed ? 1 : 0;
}
