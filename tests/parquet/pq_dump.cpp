// Developer tool: prints the readable columns of Parquet input as CSV (17 significant
// digits), or with --bench N, measures decoding (best of N runs, wall and CPU time):
//   read_slab   the public API end to end, including allocating the output;
//   decode      ParquetFile::read_column into a reused row-major buffer (pread + decompress
//               + decode + scatter);
//   decompress  only pread and decompression of the same pages, as a baseline for codecs.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet/compression.hpp"
#include "hpcad/io/parquet_reader.hpp"

namespace {

struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu0 = cpu_now();
  static double cpu_now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  double wall_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  }
  double cpu_s() const { return cpu_now() - cpu0; }
};

// pread and decompress every page of the readable columns' chunks; returns the bytes
// produced. Sizes are trusted: a benchmark of good files only.
std::size_t decompress_only(const hpcad::parquet::ParquetFile& f,
                            const hpcad::parquet::FileHandle& fh, const std::vector<int>& cols,
                            std::vector<std::uint8_t>& chunk, std::vector<std::uint8_t>& page) {
  using namespace hpcad::parquet;
  std::size_t produced = 0;
  for (const RowGroup& rg : f.metadata().row_groups) {
    for (int c : cols) {
      const ColumnMetaData& m = rg.columns[f.columns()[c].first_leaf].meta;
      std::int64_t start = m.data_page_offset;
      if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < start)
        start = m.dictionary_page_offset;
      chunk.resize(static_cast<std::size_t>(m.total_compressed_size));
      fh.read_at(static_cast<std::uint64_t>(start), chunk.size(), chunk.data());
      std::size_t pos = 0;
      while (pos < chunk.size()) {
        std::size_t hs = 0;
        const PageHeader ph = parse_page_header(chunk.data() + pos, chunk.size() - pos, hs);
        pos += hs;
        const auto cs = static_cast<std::size_t>(ph.compressed_page_size);
        const auto us = static_cast<std::size_t>(ph.uncompressed_page_size);
        page.resize(us);
        if (m.codec == 0) {
          std::memcpy(page.data(), chunk.data() + pos, us);
        } else {
          std::size_t skip = 0;  // v2 levels are stored uncompressed
          if (ph.has_data_page_v2) {
            skip = static_cast<std::size_t>(ph.data_page_v2.definition_levels_byte_length +
                                            ph.data_page_v2.repetition_levels_byte_length);
          }
          decompress(m.codec, chunk.data() + pos + skip, cs - skip, page.data(), us - skip);
        }
        produced += us;
        pos += cs;
      }
    }
  }
  return produced;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pq_dump PATH [--bench N]\n");
    return 2;
  }
  try {
    hpcad::ParquetDataset ds(hpcad::expand_input_paths(argv[1], ".parquet"));
    const auto groups = ds.row_group_rows();
    const hpcad::IndexRange all{0, static_cast<hpcad::Index>(groups.size())};
    if (argc >= 4 && std::strcmp(argv[2], "--bench") == 0) {
      const int reps = std::atoi(argv[3]);
      const auto names = ds.readable_column_names();
      double best_wall = 1e30, best_cpu = 1e30;
      std::size_t bytes = 0;
      for (int r = 0; r < reps; ++r) {
        Clock c;
        const auto slab = ds.read_slab(all, names, "");
        best_wall = std::min(best_wall, c.wall_s());
        best_cpu = std::min(best_cpu, c.cpu_s());
        bytes = slab.values.size() * 8;
      }
      std::printf("read_slab:  %zu bytes, wall %.3f s (%.2f GB/s), cpu %.3f s (%.2f GB/s)\n", bytes,
                  best_wall, bytes / best_wall / 1e9, best_cpu, bytes / best_cpu / 1e9);
      // Decode into a reused buffer (one file: the first).
      hpcad::parquet::ParquetFile file(hpcad::expand_input_paths(argv[1], ".parquet").front());
      hpcad::parquet::FileHandle fh(file.path());
      std::vector<int> cols;
      for (const auto& n : names) cols.push_back(file.find_column(n));
      hpcad::Index max_rows = 0;
      for (int g = 0; g < file.num_row_groups(); ++g)
        max_rows = std::max(max_rows, file.row_group_rows(g));
      std::vector<double> out(static_cast<std::size_t>(max_rows) * cols.size());
      hpcad::parquet::ReadScratch scratch;
      best_wall = best_cpu = 1e30;
      bytes = 0;
      for (int r = 0; r < reps; ++r) {
        Clock c;
        bytes = 0;
        for (int g = 0; g < file.num_row_groups(); ++g) {
          for (std::size_t j = 0; j < cols.size(); ++j) {
            file.read_column(fh, g, cols[j], out.data() + j, cols.size(), scratch);
          }
          bytes += static_cast<std::size_t>(file.row_group_rows(g)) * cols.size() * 8;
        }
        best_wall = std::min(best_wall, c.wall_s());
        best_cpu = std::min(best_cpu, c.cpu_s());
      }
      std::printf("decode:     %zu bytes, wall %.3f s (%.2f GB/s), cpu %.3f s (%.2f GB/s)\n", bytes,
                  best_wall, bytes / best_wall / 1e9, best_cpu, bytes / best_cpu / 1e9);
      best_wall = best_cpu = 1e30;
      std::size_t raw = 0;
      for (int r = 0; r < reps; ++r) {
        Clock c;
        raw = decompress_only(file, fh, cols, scratch.chunk, scratch.page);
        best_wall = std::min(best_wall, c.wall_s());
        best_cpu = std::min(best_cpu, c.cpu_s());
      }
      std::printf("decompress: %zu bytes, wall %.3f s (%.2f GB/s), cpu %.3f s (%.2f GB/s)\n", raw,
                  best_wall, raw / best_wall / 1e9, best_cpu, raw / best_cpu / 1e9);
      return 0;
    }
    const auto slab = ds.read_slab(all, {}, "");
    for (std::size_t j = 0; j < slab.schema.feature_names.size(); ++j) {
      std::printf("%s%s", j ? "," : "", slab.schema.feature_names[j].c_str());
    }
    std::printf("\n");
    for (hpcad::Index r = 0; r < slab.n_rows(); ++r) {
      auto row = slab.row(r);
      for (std::size_t j = 0; j < row.size(); ++j) std::printf("%s%.17g", j ? "," : "", row[j]);
      std::printf("\n");
    }
  } catch (const hpcad::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
