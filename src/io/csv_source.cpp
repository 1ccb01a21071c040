// CSV block reader. A rank's byte range (balanced over the data bytes of all files) is cut
// into sub-ranges of about block_rows rows each; a record belongs to the sub-range holding its
// first byte, exactly as with the rank ranges. Opening is collective: the `"` and `\n` counts
// of every sub-range give its quote parity and first line, and an opening parse counts its
// rows (bad rows are known only after parsing), which places each block in the table.
#include <fmt/format.h>

#include <algorithm>

#include "block_readers.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/io/csv_reader.hpp"
#include "hpcad/io/parquet_reader.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {
namespace {

/// Bytes sampled at the start of a rank's range to estimate the bytes per row.
constexpr Index kSampleBytes = Index{1} << 20;

struct CsvBlock {
  std::size_t file = 0;
  Index begin = 0, end = 0;  ///< byte range in the file
  bool in_quotes = false;    ///< odd number of `"` before `begin` in the file's data
  Index line = 0;            ///< 1-based line of byte `begin`
  Index rows = 0;            ///< rows parsed from it (bad rows skipped)
  Index global_begin = 0;
};

/// Local. Cuts `pieces` into sub-ranges of about `block_rows` rows, estimating the row length
/// from the first bytes of the first piece.
std::vector<CsvBlock> cut_blocks(const std::vector<CsvFile>& files,
                                 const std::vector<CsvPiece>& pieces, Index block_rows) {
  std::vector<CsvBlock> blocks;
  if (pieces.empty()) return blocks;
  const CsvPiece& first = pieces.front();
  const Index sample = std::min(kSampleBytes, first.end - first.begin);
  const Index newlines = files[first.file].scan_range(first.begin, first.begin + sample).newlines;
  const Index bytes_per_row = std::max<Index>(1, sample / std::max<Index>(1, newlines));
  const Index block_bytes = std::max<Index>(1, block_rows * bytes_per_row);
  for (const CsvPiece& piece : pieces)
    for (Index b = piece.begin; b < piece.end; b += block_bytes)
      blocks.push_back({piece.file, b, std::min(piece.end, b + block_bytes)});
  return blocks;
}

class CsvReader final : public BlockReader {
 public:
  /// Collective; see open_csv_reader.
  CsvReader(Comm& comm, const InputSpec& spec) : spec_(spec) {
    if (spec.block_rows <= 0)
      throw ConfigError(fmt::format("input.block_rows = {}: must be positive", spec.block_rows));
    std::vector<CsvPiece> pieces;
    std::vector<CsvRangeCounts> counts;  // per block
    guarded_phase(comm, "read", [&] {
      files_ = open_csv_files(expand_input_paths(spec.path, ".csv"), spec.csv_delimiter.at(0));
      columns_ = files_.front().select_columns(spec.columns, spec.label, spec.key_columns);
      pieces = csv_pieces(files_, partition_rows(csv_data_bytes(files_), comm.size(), comm.rank()));
      blocks_ = cut_blocks(files_, pieces, spec.block_rows);
      for (const CsvBlock& block : blocks_)
        counts.push_back(files_[block.file].scan_range(block.begin, block.end));
    });
    // A rank has one piece per file, so its last piece is its blocks in the last file.
    CsvRangeCounts last_piece;
    for (std::size_t i = 0; i < blocks_.size(); ++i)
      if (blocks_[i].file == blocks_.back().file) {
        last_piece.quotes += counts[i].quotes;
        last_piece.newlines += counts[i].newlines;
      }
    const CsvRangeCounts before = csv_counts_before(comm, pieces, last_piece);
    guarded_phase(comm, "read", [&] { count_rows(pieces, counts, before); });
    const Index rank_begin = comm.exscan_sum(local_rows());
    const Index global_rows = comm.allreduce_value(local_rows(), ReduceOp::kSum);
    Index row = rank_begin;
    for (CsvBlock& block : blocks_) {
      block.global_begin = row;
      row += block.rows;
    }
    info_.schema.n_features = static_cast<Index>(columns_.feature_columns.size());
    info_.schema.feature_names = columns_.feature_names;
    info_.global_rows = global_rows;
    info_.local_begin = rank_begin;
    info_.local_rows = local_rows();
    info_.has_labels = columns_.label_column >= 0;
  }

  const TableInfo& info() const override { return info_; }
  Index block_count() const override { return static_cast<Index>(blocks_.size()); }
  std::string kind() const override { return kFormatCsv; }
  Index skipped_rows() const override { return skipped_; }

  void read(Index b, RowBlock& block) override {
    const CsvBlock& where = blocks_[b];
    chunk_ = parse(where);
    check_internal(chunk_.rows == where.rows, "CSV block row count changed between passes");
    block.global_begin = where.global_begin;
    block.n_rows = where.rows;
    block.n_features = info_.schema.n_features;
    block.values = chunk_.values;
    block.labels = chunk_.labels;
    check_labels(block.labels, where.global_begin, files_[where.file].path());
  }

 private:
  CsvChunk parse(const CsvBlock& where) const {
    return files_[where.file].parse_range(where.begin, where.end, where.in_quotes, where.line,
                                          columns_, spec_.skip_bad_rows);
  }

  /// Local. Sets each block's parity and first line from the counts before it, and parses it
  /// once to count its rows (throws on the first bad row unless skip_bad_rows).
  void count_rows(const std::vector<CsvPiece>& pieces, const std::vector<CsvRangeCounts>& counts,
                  const CsvRangeCounts& before) {
    CsvRangeCounts in_file;
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      CsvBlock& block = blocks_[i];
      const CsvFile& file = files_[block.file];
      if (block.begin == file.data_begin()) {
        in_file = {};  // a piece starting its file
      } else if (i == 0) {
        in_file = before;
      }
      block.in_quotes = (in_file.quotes & 1) != 0;
      block.line = file.data_begin_line() + in_file.newlines;
      const CsvChunk chunk = parse(block);
      block.rows = chunk.rows;
      skipped_ += chunk.skipped;
      in_file.quotes += counts[i].quotes;
      in_file.newlines += counts[i].newlines;
    }
  }

  Index local_rows() const {
    Index rows = 0;
    for (const CsvBlock& block : blocks_) rows += block.rows;
    return rows;
  }

  InputSpec spec_;
  std::vector<CsvFile> files_;
  CsvColumns columns_;
  std::vector<CsvBlock> blocks_;
  Index skipped_ = 0;
  TableInfo info_;
  CsvChunk chunk_;
};

}  // namespace

std::unique_ptr<BlockReader> open_csv_reader(Comm& comm, const InputSpec& spec) {
  return std::make_unique<CsvReader>(comm, spec);
}

}  // namespace hpcad
