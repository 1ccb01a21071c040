// libFuzzer harness: a whole Parquet file — the footer (Thrift compact FileMetaData, schema,
// row groups) and the pages of every readable column (page headers, decompression, levels,
// PLAIN / dictionary / RLE / delta / byte-stream-split decoding) — read through
// ParquetDataset, the same code path as `hpcad run` on a Parquet input. The input is
// placed in an in-memory file (memfd), since the reader works with positioned reads on a
// path. Exceptions other than DataError / IoError escape and are reported as crashes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet_reader.hpp"

namespace {

/// Doubles the harness allocates for one row group; a file may declare far more rows than
/// it holds, and bounding that allocation is the memory check's job (run.memory_per_rank),
/// not the decoder's.
constexpr hpcad::Index kMaxGroupValues = hpcad::Index{1} << 22;

class MemoryFile {
 public:
  MemoryFile(const std::uint8_t* data, std::size_t size) : fd_(memfd_create("fuzz.parquet", 0)) {
    if (fd_ < 0 || write(fd_, data, size) != static_cast<ssize_t>(size)) __builtin_trap();
  }
  ~MemoryFile() { close(fd_); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MemoryFile file(data, size);
  try {
    const hpcad::ParquetDataset dataset({file.path()});
    const hpcad::ParquetDataset::Selection selection = dataset.select({}, "");
    const auto nf = static_cast<hpcad::Index>(selection.features.size());
    hpcad::ParquetDataset::ReadState state;
    std::vector<double> values;
    const std::vector<hpcad::Index> groups = dataset.row_group_rows();
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (groups[g] > kMaxGroupValues / nf) continue;
      values.assign(static_cast<std::size_t>(groups[g] * nf), 0.0);
      dataset.read_group(static_cast<hpcad::Index>(g), selection, values.data(), nullptr, state);
    }
  } catch (const hpcad::DataError&) {
  } catch (const hpcad::IoError&) {
  }
  return 0;
}
