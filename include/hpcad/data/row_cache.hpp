#pragma once
/// A rank's rows kept in memory during one pass and served as views in later ones: the
/// storage behind BlockSource (raw rows) and TransformedSource (feature rows) caching.
#include <cstdint>
#include <span>
#include <vector>

#include "hpcad/core/types.hpp"

namespace hpcad {

struct RowBlock;

class RowCache {
 public:
  /// Bytes the cache takes for `rows` rows of `features` values (and a label each).
  static std::int64_t bytes_for(Index rows, Index features, bool labels);

  /// Reserves room for `rows` rows of `features` values in `blocks` blocks, allocated once:
  /// no regrowth copies, no 2x capacity overshoot.
  void reserve(Index rows, Index features, bool labels, Index blocks);
  /// Appends a block (possibly empty) of the pass being cached.
  void append(const RowBlock& block);
  /// Appends `rows` rows (row-major values, and a label each if labels are cached) to the
  /// block being cached, which end_block() ends: a block can be cached slice by slice.
  void append_rows(std::span<const double> values, std::span<const double> labels, Index rows);
  void end_block();
  Index block_count() const { return static_cast<Index>(block_ends_.size()); }
  /// Block `b` of the cached pass as views into the cache; its rows begin at global row
  /// `local_begin` plus the rows of the blocks before it.
  void block(Index b, Index local_begin, Index n_features, RowBlock& out) const;
  /// Forgets the rows, keeping the memory (a pass abandoned half way).
  void clear();
  /// Gives the memory back.
  void release();
  /// Bytes held now (reserved included).
  std::int64_t bytes() const;
  /// Bytes of the rows cached so far.
  std::int64_t used_bytes() const;

 private:
  std::vector<double> values_, labels_;
  std::vector<Index> block_ends_;  ///< rows cached at the end of each block
  Index rows_ = 0;                 ///< rows cached so far
};

}  // namespace hpcad
