// CSV read throughput: hpcad_csv_bench [rows=1000000] [cols=16] [file=/tmp/hpcad_csv_bench.csv]
// Generates (if missing) a file of random doubles written with 17 significant digits plus a
// 0/1 label, then times read_csv_slab over SerialComm (one rank; the file is in the page
// cache after the first run) and prints MB/s by wall-clock and by process CPU time (the
// latter is meaningful on a loaded machine).
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "hpcad/comm/comm.hpp"
#include "hpcad/io/csv_reader.hpp"

int main(int argc, char** argv) {
  const long rows = argc > 1 ? std::atol(argv[1]) : 1000000;
  const int cols = argc > 2 ? std::atoi(argv[2]) : 16;
  const std::string path = argc > 3 ? argv[3] : "/tmp/hpcad_csv_bench.csv";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return 1;
    for (int j = 0; j < cols; ++j) std::fprintf(f, "f%d,", j);
    std::fprintf(f, "label\n");
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (long r = 0; r < rows; ++r) {
      for (int j = 0; j < cols; ++j) std::fprintf(f, "%.17g,", normal(rng));
      std::fprintf(f, "%d\n", static_cast<int>(rng() % 2));
    }
    std::fclose(f);
  }
  using Clock = std::chrono::steady_clock;
  auto cpu_now = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  for (int rep = 0; rep < 5; ++rep) {
    const double c0 = cpu_now();
    const auto t0 = Clock::now();
    hpcad::SerialComm comm;
    const hpcad::RowSlab slab = hpcad::read_csv_slab(comm, path, {}, {}, "label");
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_now() - c0;
    ::stat(path.c_str(), &st);
    const double mb = static_cast<double>(st.st_size) / 1e6;
    std::printf("rows %lld x %lld, %.1f MB: wall %.3f s = %.1f MB/s, cpu %.3f s = %.1f MB/s\n",
                static_cast<long long>(slab.n_rows()), static_cast<long long>(slab.n_features()),
                mb, seconds, mb / seconds, cpu, mb / cpu);
  }
  return 0;
}
