#include "hpcad/data/row_cache.hpp"

#include "hpcad/core/memory.hpp"
#include "hpcad/data/row_source.hpp"

namespace hpcad {

std::int64_t RowCache::bytes_for(Index rows, Index features, bool labels) {
  return rows * (features + (labels ? 1 : 0)) * static_cast<std::int64_t>(sizeof(double));
}

void RowCache::reserve(Index rows, Index features, bool labels, Index blocks) {
  const auto values = static_cast<std::size_t>(rows * features);
  values_.reserve(values);
  advise_huge_pages(values_.data(), values * sizeof(double));
  if (labels) labels_.reserve(static_cast<std::size_t>(rows));
  block_ends_.reserve(static_cast<std::size_t>(blocks));
}

void RowCache::append(const RowBlock& block) {
  append_rows(block.values, block.labels, block.n_rows);
  end_block();
}

void RowCache::append_rows(std::span<const double> values, std::span<const double> labels,
                           Index rows) {
  values_.insert(values_.end(), values.begin(), values.end());
  labels_.insert(labels_.end(), labels.begin(), labels.end());
  rows_ += rows;
}

void RowCache::end_block() { block_ends_.push_back(rows_); }

void RowCache::block(Index b, Index local_begin, Index n_features, RowBlock& out) const {
  const Index begin = b == 0 ? 0 : block_ends_[b - 1];
  const Index rows = block_ends_[b] - begin;
  out.global_begin = local_begin + begin;
  out.n_rows = rows;
  out.n_features = n_features;
  out.values = std::span<const double>(values_).subspan(
      static_cast<std::size_t>(begin * n_features), static_cast<std::size_t>(rows * n_features));
  out.labels = labels_.empty()
                   ? std::span<const double>()
                   : std::span<const double>(labels_).subspan(static_cast<std::size_t>(begin),
                                                              static_cast<std::size_t>(rows));
}

void RowCache::clear() {
  values_.clear();
  labels_.clear();
  block_ends_.clear();
  rows_ = 0;
}

void RowCache::release() {
  std::vector<double>().swap(values_);
  std::vector<double>().swap(labels_);
  std::vector<Index>().swap(block_ends_);
  rows_ = 0;
}

std::int64_t RowCache::bytes() const {
  return static_cast<std::int64_t>((values_.capacity() + labels_.capacity()) * sizeof(double));
}

std::int64_t RowCache::used_bytes() const {
  return static_cast<std::int64_t>((values_.size() + labels_.size()) * sizeof(double));
}

}  // namespace hpcad
