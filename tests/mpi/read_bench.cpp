// Throughput of the input readers (not a test): every rank opens its share of the input with
// open_input_reader and reads every block through a streaming BlockSource, `repeats` times;
// rank 0 prints the best time per rank and GB/s per rank of the float64 values delivered.
//   mpiexec -n N hpcad_read_bench FILE [label] [block_rows] [repeats]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/sources.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  hpcad::h5::silence_errors();
  if (argc < 2) {
    std::fprintf(stderr, "usage: hpcad_read_bench FILE [label] [block_rows] [repeats]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  hpcad::MpiComm comm;
  hpcad::InputSpec spec;
  spec.path = argv[1];
  spec.label = argc > 2 && std::string(argv[2]) != "-" ? argv[2] : "";
  if (argc > 3) spec.block_rows = std::atoll(argv[3]);
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
  double best = 1e300;
  std::int64_t bytes = 0;
  for (int r = 0; r < repeats; ++r) {
    comm.barrier();
    const double start = MPI_Wtime();
    hpcad::BlockSource source(comm, hpcad::open_input_reader(comm, spec), 0);
    hpcad::RowBlock block;
    bytes = 0;
    while (source.next(block)) bytes += static_cast<std::int64_t>(block.values.size_bytes());
    const double seconds = comm.allreduce_value(MPI_Wtime() - start, hpcad::ReduceOp::kMax);
    best = std::min(best, seconds);
  }
  const std::int64_t max_bytes = comm.allreduce_value(bytes, hpcad::ReduceOp::kMax);
  if (comm.rank() == 0)
    std::printf("ranks %d  block_rows %lld  label %s  best %.4f s  %.3f GB/s per rank\n",
                comm.size(), static_cast<long long>(spec.block_rows),
                spec.label.empty() ? "no" : "yes", best, max_bytes / best / 1e9);
  MPI_Finalize();
  return 0;
}
