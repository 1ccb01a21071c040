#include "hpcad/data/row_source.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "hpcad/core/error.hpp"
#include "hpcad/core/interrupt.hpp"
#include "hpcad/core/memory.hpp"

namespace hpcad {
namespace {

/// Rows of a RowSlab served in blocks of `block_rows`, as views into the slab.
class MemoryReader final : public BlockReader {
 public:
  MemoryReader(RowSlab slab, Index block_rows) : slab_(std::move(slab)), block_rows_(block_rows) {
    check_internal(block_rows_ > 0, "make_memory_reader: block_rows must be positive");
    check_internal(!slab_.has_labels || static_cast<Index>(slab_.labels.size()) == slab_.n_rows(),
                   "make_memory_reader: one label per row");
    info_.schema = slab_.schema;
    info_.global_rows = slab_.global_rows;
    info_.local_begin = slab_.global_begin;
    info_.local_rows = slab_.n_rows();
    info_.has_labels = slab_.has_labels;
  }

  const TableInfo& info() const override { return info_; }
  Index block_count() const override { return (info_.local_rows + block_rows_ - 1) / block_rows_; }
  void read(Index b, RowBlock& block) override {
    check_internal(b >= 0 && b < block_count(), "MemoryReader::read: block outside the slab");
    const Index begin = b * block_rows_;
    const Index rows = std::min(block_rows_, info_.local_rows - begin);
    const Index d = info_.schema.n_features;
    block.global_begin = info_.local_begin + begin;
    block.n_rows = rows;
    block.n_features = d;
    block.values =
        std::span<const double>(slab_.values)
            .subspan(static_cast<std::size_t>(begin * d), static_cast<std::size_t>(rows * d));
    block.labels = slab_.has_labels ? std::span<const double>(slab_.labels)
                                          .subspan(static_cast<std::size_t>(begin),
                                                   static_cast<std::size_t>(rows))
                                    : std::span<const double>();
  }
  std::string kind() const override { return "memory"; }

 private:
  RowSlab slab_;
  Index block_rows_;
  TableInfo info_;
};

/// The empty block a rank yields once its own blocks are exhausted: it sits right after the
/// rank's rows, so global offsets stay monotone.
void set_empty_block(const TableInfo& info, RowBlock& block) {
  block = RowBlock{};
  block.global_begin = info.local_begin + info.local_rows;
  block.n_features = info.schema.n_features;
}

}  // namespace

BlockSource::BlockSource(Comm& comm, std::unique_ptr<BlockReader> reader,
                         std::int64_t cache_budget_bytes, std::int64_t memory_limit_bytes)
    : comm_(comm),
      reader_(std::move(reader)),
      cache_budget_bytes_(cache_budget_bytes),
      memory_limit_bytes_(memory_limit_bytes),
      caching_(cache_budget_bytes > 0) {
  blocks_per_pass_ = comm_.allreduce_value(reader_->block_count(), ReduceOp::kMax);
  const TableInfo& table = reader_->info();
  const std::int64_t expected =
      RowCache::bytes_for(table.local_rows, table.schema.n_features, table.has_labels);
  // The expected size is known up front, so a cache that cannot fit is never started.
  if (caching_ && expected > cache_budget_bytes_) caching_ = false;
  if (caching_)
    cache_.reserve(table.local_rows, table.schema.n_features, table.has_labels,
                   reader_->block_count());
}

std::vector<double> RowSource::local_tail(Index) {
  throw InternalError("this row source cannot read its last rows out of pass order");
}

std::vector<double> BlockSource::local_tail(Index rows) {
  const Index d = info().schema.n_features;
  std::vector<double> tail;
  RowBlock block;
  for (Index b = reader_->block_count() - 1, have = 0; b >= 0 && have < rows; --b) {
    // Out of pass order, so straight from the reader unless the cache is complete: a
    // partial cache must only ever grow by the pass's next block.
    if (cache_complete_)
      read_local(b, block);
    else
      reader_->read(b, block);
    const Index take = std::min(rows - have, block.n_rows);
    tail.insert(tail.begin(), block.values.end() - take * d, block.values.end());
    have += take;
  }
  return tail;
}

bool BlockSource::next(RowBlock& block) {
  if (next_block_ >= blocks_per_pass_) {
    // Every block of a first pass went through the cache: later passes come from memory.
    if (caching_) cache_complete_ = true;
    return false;
  }
  const Index b = next_block_++;
  // Every rank enters the agreement once per block, also with an empty block, so a failure
  // on one rank cannot leave the others waiting in a later collective.
  // The block boundary is also where a SIGTERM or SIGINT stops the job.
  guarded_phase(comm_, "read", [&] {
    throw_if_interrupted();
    read_local(b, block);
  });
  rows_done_ += comm_.allreduce_value(block.n_rows, ReduceOp::kSum);
  if (progress_ != nullptr) progress_->update(rows_done_, info().global_rows);
  return true;
}

void BlockSource::read_local(Index b, RowBlock& block) {
  const TableInfo& table = info();
  const Index local_blocks = reader_->block_count();
  if (b >= local_blocks) {
    set_empty_block(table, block);
    return;
  }
  if (cache_complete_) {
    cache_.block(b, table.local_begin, table.schema.n_features, block);
    return;
  }
  reader_->read(b, block);
  if (!caching_) return;
  const auto block_bytes =
      static_cast<std::int64_t>((block.values.size() + block.labels.size()) * sizeof(double));
  if (cache_.used_bytes() + block_bytes > cache_budget_bytes_) {
    // The reader delivered more than it announced: give the memory back and stream.
    caching_ = false;
    cache_.release();
    return;
  }
  cache_.append(block);
}

void BlockSource::rewind() {
  // A first pass abandoned half way leaves a partial cache: drop it, the next pass refills.
  if (caching_ && !cache_complete_) {
    cache_.clear();
  }
  next_block_ = 0;
  rows_done_ = 0;
}

std::string BlockSource::mode() const { return cache_complete_ ? "memory" : reader_->kind(); }

std::int64_t BlockSource::cache_bytes() const { return cache_.bytes(); }

std::unique_ptr<BlockReader> make_memory_reader(RowSlab slab, Index block_rows) {
  return std::make_unique<MemoryReader>(std::move(slab), block_rows);
}

std::unique_ptr<RowSource> make_memory_source(Comm& comm, RowSlab slab, Index block_rows) {
  return std::make_unique<BlockSource>(comm, make_memory_reader(std::move(slab), block_rows), 0);
}

std::vector<double> gather_local_rows(RowSource& source, std::span<const Index> wanted) {
  check_internal(
      std::adjacent_find(wanted.begin(), wanted.end(), std::greater_equal<Index>()) == wanted.end(),
      "gather_rows: wanted rows must be sorted and distinct");
  std::vector<double> mine;
  source.rewind();
  RowBlock block;
  while (source.next(block)) {
    const auto first = std::lower_bound(wanted.begin(), wanted.end(), block.global_begin);
    const auto last = std::lower_bound(first, wanted.end(), block.global_begin + block.n_rows);
    for (auto it = first; it != last; ++it) {
      const auto row = block.row(*it - block.global_begin);
      mine.insert(mine.end(), row.begin(), row.end());
    }
  }
  return mine;
}

std::vector<double> gather_rows(RowSource& source, std::span<const Index> wanted) {
  const std::vector<double> mine = gather_local_rows(source, wanted);
  // Ranks hold contiguous ascending row ranges, so rank order is the order of `wanted`.
  std::vector<double> all = source.comm().allgatherv(std::span<const double>(mine));
  check_internal(all.size() == wanted.size() * static_cast<std::size_t>(source.n_features()),
                 "gather_rows: wanted rows outside the table");
  return all;
}

RowSlab read_all(RowSource& source) {
  const TableInfo& table = source.info();
  RowSlab slab;
  slab.schema = table.schema;
  slab.global_begin = table.local_begin;
  slab.global_rows = table.global_rows;
  slab.has_labels = table.has_labels;
  const auto values = static_cast<std::size_t>(table.local_rows * table.schema.n_features);
  slab.values.reserve(values);
  advise_huge_pages(slab.values.data(), values * sizeof(double));
  if (table.has_labels) slab.labels.reserve(static_cast<std::size_t>(table.local_rows));
  source.rewind();
  RowBlock block;
  while (source.next(block)) {
    slab.values.insert(slab.values.end(), block.values.begin(), block.values.end());
    slab.labels.insert(slab.labels.end(), block.labels.begin(), block.labels.end());
  }
  return slab;
}

}  // namespace hpcad
