#pragma once
/// One Parquet file: its validated footer, flat column layout, and a column-chunk reader
/// that decodes numeric columns to doubles with positioned reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hpcad/core/types.hpp"
#include "hpcad/io/parquet/encoding.hpp"
#include "hpcad/io/parquet/metadata.hpp"

namespace hpcad::parquet {

/// Hard caps on sizes taken from a file, checked before allocating.
inline constexpr std::size_t kMaxFooterBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxPageBytes = std::size_t{1} << 30;
inline constexpr int kMaxSchemaDepth = 64;

/// An open file descriptor for positioned reads; closed on destruction. Local.
class FileHandle {
 public:
  /// Opens `path` read-only; throws IoError naming the path and the system error.
  explicit FileHandle(const std::string& path);
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  std::uint64_t size() const { return size_; }
  /// Reads exactly `n` bytes at `offset` (pread); throws IoError on failure or short read.
  void read_at(std::uint64_t offset, std::size_t n, void* dst) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// A primitive (leaf) column of the schema.
struct LeafColumn {
  std::string path;   ///< dotted path from the root
  int top_level = 0;  ///< index of the top-level column it belongs to
  PhysicalType type = PhysicalType::kDouble;
  int max_def = 0;
  int max_rep = 0;
  IntInterpretation interp;
  bool bad_scale = false;  ///< a decimal scale outside [0, kMaxDecimalScale]
};

/// A field of the schema root.
struct TopLevelColumn {
  std::string name;
  bool nested = false;  ///< a group or a repeated field
  int first_leaf = 0;
  int num_leaves = 0;
};

/// Reusable buffers for reading column chunks (one per reading thread).
struct ReadScratch {
  std::vector<std::uint8_t> chunk;
  std::vector<std::uint8_t> page;
  std::vector<std::uint8_t> levels;
  std::vector<double> dict;
  std::vector<double> column;
};

/// A Parquet file's validated metadata. Construction reads the footer with one open and
/// two positioned reads and checks its structure; it keeps no file descriptor. Local.
class ParquetFile {
 public:
  /// Throws IoError if the file cannot be read, DataError (naming the file) if it is not a
  /// valid Parquet file hpcad can handle.
  explicit ParquetFile(std::string path);

  const std::string& path() const { return path_; }
  Index num_rows() const { return metadata_.num_rows; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  Index row_group_rows(int rg) const { return metadata_.row_groups[rg].num_rows; }
  const FileMetaData& metadata() const { return metadata_; }
  const std::vector<TopLevelColumn>& columns() const { return columns_; }
  const std::vector<LeafColumn>& leaves() const { return leaves_; }
  /// Index of the top-level column called `name`, or -1.
  int find_column(const std::string& name) const;
  /// Empty when column `c` can be read as doubles, else why not. A series key (`as_key`)
  /// may also be a BYTE_ARRAY (text) column, read with key_from_text (data/text_key.hpp).
  std::string unreadable_reason(int c, bool as_key = false) const;

  /// Decodes top-level column `c` (which must be readable) of row group `rg` into
  /// out[i * stride] for each row i; nulls become NaN. `file` must be this file, opened.
  void read_column(const FileHandle& file, int rg, int c, double* out, std::size_t stride,
                   ReadScratch& scratch) const;

 private:
  void build_schema();
  void validate_row_groups();
  void read_column_impl(const FileHandle& file, int rg, int c, double* out, std::size_t stride,
                        ReadScratch& scratch) const;

  std::string path_;
  std::uint64_t file_size_ = 0;
  std::uint64_t data_end_ = 0;  ///< offset of the footer: column data lies before it
  FileMetaData metadata_;
  std::vector<TopLevelColumn> columns_;
  std::vector<LeafColumn> leaves_;
};

}  // namespace hpcad::parquet
