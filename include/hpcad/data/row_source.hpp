#pragma once
/// Streaming input: a rank's rows arrive as blocks from a RowSource, so no algorithm needs a
/// rank's whole slab in memory.
///
/// Two layers: a BlockReader is local (one rank's rows of one file format, block b on
/// demand; io/ implements HDF5, Parquet and CSV readers, this header an in-memory one), and
/// a RowSource is the collective iterator algorithms use. BlockSource turns a reader into a
/// source: it equalises block counts over ranks, agrees on read errors, reports progress,
/// and caches the rows in memory after the first pass when they fit the budget.
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"
#include "hpcad/data/row_cache.hpp"
#include "hpcad/data/row_slab.hpp"

namespace hpcad {

/// A view of consecutive rows [global_begin, global_begin + n_rows) of the table. Valid until
/// the next call to the source's next() or rewind().
struct RowBlock {
  Index global_begin = 0;
  Index n_rows = 0;
  Index n_features = 0;
  std::span<const double> values;  ///< row-major, n_rows * n_features
  std::span<const double> labels;  ///< n_rows values (0 or 1) when the table has labels

  std::span<const double> row(Index r) const {
    return values.subspan(static_cast<std::size_t>(r * n_features),
                          static_cast<std::size_t>(n_features));
  }
  bool empty() const { return n_rows == 0; }
  /// Rows [begin, begin + count) of this block as a block.
  RowBlock slice(Index begin, Index count) const {
    RowBlock part = *this;
    part.global_begin = global_begin + begin;
    part.n_rows = count;
    part.values = values.subspan(static_cast<std::size_t>(begin * n_features),
                                 static_cast<std::size_t>(count * n_features));
    if (!labels.empty())
      part.labels =
          labels.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count));
    return part;
  }
};

/// What a rank knows about the table once its reader is open.
struct TableInfo {
  Schema schema;
  Index global_rows = 0;    ///< rows over all ranks
  Index local_begin = 0;    ///< global index of this rank's first row
  Index local_rows = 0;     ///< this rank's rows
  bool has_labels = false;  ///< the same on every rank
};

/// Local. One rank's rows of a table, block by block, in global row order.
class BlockReader {
 public:
  virtual ~BlockReader() = default;
  virtual const TableInfo& info() const = 0;
  /// This rank's block count (may be 0).
  virtual Index block_count() const = 0;
  /// Reads block `b` in [0, block_count()) into `block` (the views stay valid until the next
  /// read); blocks are consecutive and cover this rank's rows. Throws on bad data.
  virtual void read(Index b, RowBlock& block) = 0;
  /// Format name for messages and the report: "memory", "hdf5", "parquet", "csv".
  virtual std::string kind() const = 0;
  /// Rows the reader skipped as malformed on this rank (CSV skip_bad_rows), known after a pass.
  virtual Index skipped_rows() const { return 0; }
};

/// Receives progress of passes (rank 0 prints it every few seconds).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  /// Local. `rows_done` of `rows_total` rows of the current pass, summed over ranks.
  virtual void update(Index rows_done, Index rows_total) = 0;
};

/// The collective block iterator every algorithm reads.
///
/// Every rank calls next() equally often: a pass yields the same number of blocks on every
/// rank (ranks with fewer rows get empty blocks at the end), then next() returns false on
/// every rank together. A read error on any rank is agreed on inside next(): every rank
/// throws PeerError with the failing rank's message, so no rank is left waiting in a later
/// collective. rewind() starts another pass.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual const TableInfo& info() const = 0;
  virtual Comm& comm() const = 0;
  /// Collective. The next block of this pass; false (on every rank together) at its end.
  virtual bool next(RowBlock& block) = 0;
  /// Collective. Starts a new pass at this rank's first row.
  virtual void rewind() = 0;
  /// Local. Where pass progress is reported (nullptr: nowhere).
  virtual void set_progress(ProgressSink* progress) = 0;
  /// Local. This rank's last
  /// min(rows, local_rows()) rows, row-major: the rows a later rank's windows reach back to
  /// (TransformedSource's halo exchange). Sources that cannot seek throw InternalError.
  virtual std::vector<double> local_tail(Index rows);
  /// Local. Bytes a reader of this source may still allocate for its own working set (what
  /// run.memory_per_rank leaves after the scores, blocks and this source's cache), so that a
  /// detector holding rows itself (exact neighbours) can choose an out-of-core path. Unbounded
  /// unless the job set a budget.
  virtual std::int64_t spare_bytes() const { return std::numeric_limits<std::int64_t>::max(); }

  Index n_features() const { return info().schema.n_features; }
  Index global_rows() const { return info().global_rows; }
  Index local_rows() const { return info().local_rows; }
  Index local_begin() const { return info().local_begin; }
  bool has_labels() const { return info().has_labels; }
};

/// A RowSource over a BlockReader, with an optional in-memory cache.
class BlockSource final : public RowSource {
 public:
  /// Collective. `cache_budget_bytes`: the rows are kept after the first pass if they fit
  /// (values and labels as doubles); 0 = never cache. If the rows turn out not to fit, the
  /// partial copy is freed and every pass streams from the reader; the blocks are identical
  /// either way.
  /// `memory_limit_bytes`: what spare_bytes() starts from (the cache takes its share).
  BlockSource(Comm& comm, std::unique_ptr<BlockReader> reader, std::int64_t cache_budget_bytes,
              std::int64_t memory_limit_bytes = std::numeric_limits<std::int64_t>::max());

  const TableInfo& info() const override { return reader_->info(); }
  Comm& comm() const override { return comm_; }
  bool next(RowBlock& block) override;
  void rewind() override;
  void set_progress(ProgressSink* progress) override { progress_ = progress; }
  std::vector<double> local_tail(Index rows) override;
  std::int64_t spare_bytes() const override { return memory_limit_bytes_ - cache_bytes(); }

  /// Local. True once this rank serves its rows from memory.
  bool cached() const { return cache_complete_; }
  /// Local. "memory" if cached, else the reader's kind (e.g. "hdf5").
  std::string mode() const;
  const BlockReader& reader() const { return *reader_; }
  /// Local. Bytes held by the cache now.
  std::int64_t cache_bytes() const;

 private:
  void read_local(Index b, RowBlock& block);

  Comm& comm_;
  std::unique_ptr<BlockReader> reader_;
  std::int64_t cache_budget_bytes_;
  std::int64_t memory_limit_bytes_;
  Index blocks_per_pass_ = 0;
  Index next_block_ = 0;
  Index rows_done_ = 0;  ///< this pass, over all ranks
  ProgressSink* progress_ = nullptr;
  bool caching_;
  bool cache_complete_ = false;
  RowCache cache_;
};

/// Local. A reader over rows held in memory (tests, data generated in process), in blocks
/// of `block_rows`. `global_rows` and `has_labels` of the slab must agree over ranks.
std::unique_ptr<BlockReader> make_memory_reader(RowSlab slab, Index block_rows);

/// Collective. A never-caching BlockSource over make_memory_reader (tests).
std::unique_ptr<RowSource> make_memory_source(Comm& comm, RowSlab slab, Index block_rows);

/// Collective. One pass collecting the rows with the given global indices (sorted, distinct,
/// each < global_rows) on every rank, row-major in the order of `wanted`.
std::vector<double> gather_rows(RowSource& source, std::span<const Index> wanted);

/// Collective (a pass). The rows of `wanted` (sorted, distinct) that this rank holds, row-major in
/// the order of `wanted`: a contiguous part of it, since ranks hold contiguous row ranges.
std::vector<double> gather_local_rows(RowSource& source, std::span<const Index> wanted);

/// Collective. One pass reading this rank's rows into a slab.
RowSlab read_all(RowSource& source);

}  // namespace hpcad
