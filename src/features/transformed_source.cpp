#include "hpcad/features/transformed_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "hpcad/core/error.hpp"
#include "hpcad/core/interrupt.hpp"

namespace hpcad {
namespace {

/// Rows the steps run on at a time: a slice of 32 features is 512 KiB per step buffer.
constexpr Index kSliceRows = 2048;
/// A step goes over its history rows again for every slice, so slices are at least this
/// many times the longest history (a 10,000-row window: 40,000-row slices).
constexpr Index kSlicesPerHistory = 4;

/// Index of the column named like column `j` of `of` in `schema`, or -1.
Index same_column(const Schema& schema, const Schema& of, Index j) {
  if (j >= static_cast<Index>(of.feature_names.size())) return -1;
  const auto& names = schema.feature_names;
  const auto it = std::find(names.begin(), names.end(), of.feature_names[j]);
  return it == names.end() ? -1 : it - names.begin();
}

}  // namespace

TransformedSource::TransformedSource(RowSource& input, std::vector<const Transform*> steps,
                                     std::string input_name, bool reject_non_finite,
                                     std::int64_t cache_budget_bytes)
    : input_(input),
      steps_(std::move(steps)),
      input_name_(std::move(input_name)),
      reject_non_finite_(reject_non_finite),
      info_(input.info()) {
  schemas_.push_back(info_.schema);
  slice_rows_ = kSliceRows;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    try {
      schemas_.push_back(steps_[s]->output_schema(schemas_.back()));
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{}: feature step {}: {}", input_name_, s, e.what()));
    }
    halo_rows_ += steps_[s]->history_rows();
    slice_rows_ = std::max(slice_rows_, kSlicesPerHistory * steps_[s]->history_rows());
  }
  info_.schema = schemas_.back();
  history_.resize(steps_.size());
  buffers_.resize(steps_.size());
  const Index width = info_.schema.n_features;
  caching_ = cache_budget_bytes > 0 &&
             RowCache::bytes_for(info_.local_rows, width, info_.has_labels) <= cache_budget_bytes;
  if (caching_) cache_.reserve(info_.local_rows, width, info_.has_labels, 0);
}

void TransformedSource::set_progress(ProgressSink* progress) {
  progress_ = progress;
  input_.set_progress(progress);
}

void TransformedSource::rewind() {
  if (cache_complete_) {
    next_cached_block_ = 0;
    cached_rows_done_ = 0;
    return;  // the first pass's count of non-finite inputs stays
  }
  input_.rewind();
  for (auto& h : history_) h.clear();
  non_finite_inputs_ = 0;
  halo_pending_ = true;
  cache_.clear();  // a pass abandoned half way
}

bool TransformedSource::next(RowBlock& block) {
  if (cache_complete_) return next_cached(block);
  if (halo_pending_) {
    exchange_halo();
    halo_pending_ = false;
  }
  RowBlock raw;
  if (!input_.next(raw)) {
    finish_caching();
    return false;
  }
  // Transforms and checks may throw on one rank only: agree before the next collective.
  guarded_phase(comm(), "transform", [&] { transform(raw, block); });
  return true;
}

void TransformedSource::finish_caching() {
  if (cache_decided_) return;
  cache_decided_ = true;
  cache_complete_ = input_.comm().allreduce_value(Index{caching_ ? 1 : 0}, ReduceOp::kMin) == 1;
  if (!cache_complete_) {
    caching_ = false;
    cache_.release();
  }
}

bool TransformedSource::next_cached(RowBlock& block) {
  Comm& comm = input_.comm();
  // The block boundary is where a SIGTERM or SIGINT stops the job, as in BlockSource.
  guarded_phase(comm, "read", [] { throw_if_interrupted(); });
  if (next_cached_block_ == cache_.block_count()) return false;
  cache_.block(next_cached_block_++, info_.local_begin, info_.schema.n_features, block);
  cached_rows_done_ += comm.allreduce_value(block.n_rows, ReduceOp::kSum);
  if (progress_ != nullptr) progress_->update(cached_rows_done_, info_.global_rows);
  return true;
}

void TransformedSource::exchange_halo() {
  Comm& comm = input_.comm();
  if (halo_rows_ == 0 || comm.size() == 1) return;
  const Index d = input_.n_features();
  const Index rank = comm.rank();
  const std::vector<Index> counts = comm.allgather<Index>(input_.local_rows());
  // Timed from here: the allgather above is where ranks wait for each other to reach the
  // pass, which is not the exchange's cost.
  const auto start = std::chrono::steady_clock::now();
  std::vector<Index> begins(counts.size() + 1, 0);
  for (std::size_t q = 0; q < counts.size(); ++q) begins[q + 1] = begins[q] + counts[q];
  // Rank r needs rows [begins[r] - H, begins[r]); the furthest rank back any rank needs
  // sets the number of shift rounds, the same on every rank.
  int rounds = 0;
  for (int r = 1; r < comm.size(); ++r)
    for (int q = r - 1; q >= 0 && begins[q + 1] > begins[r] - halo_rows_; --q)
      rounds = std::max(rounds, r - q);
  std::vector<double> tail;
  guarded_phase(comm, "read",
                [&] { tail = input_.local_tail(std::min(halo_rows_, counts[rank])); });
  const Index tail_begin = begins[rank + 1] - static_cast<Index>(tail.size()) / d;
  std::vector<std::vector<double>> parts(static_cast<std::size_t>(rounds) + 1);
  for (int offset = 1; offset <= rounds; ++offset) {
    std::span<const double> send;
    if (const Index dest = rank + offset; dest < comm.size()) {
      const Index first = std::max(begins[dest] - halo_rows_, begins[rank]);
      const Index last = std::min(begins[dest], begins[rank + 1]);
      if (last > first)
        send = std::span<const double>(tail).subspan((first - tail_begin) * d, (last - first) * d);
    }
    parts[offset] = comm.shift<double>(send, offset);
  }
  std::vector<double> halo;
  for (int offset = rounds; offset >= 1; --offset)
    halo.insert(halo.end(), parts[offset].begin(), parts[offset].end());
  RowBlock raw;
  raw.n_features = d;
  raw.n_rows = static_cast<Index>(halo.size()) / d;
  raw.global_begin = begins[rank] - raw.n_rows;
  raw.values = halo;
  RowBlock replayed;
  guarded_phase(comm, "transform", [&] { run_steps(raw, replayed); });
  halo_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++halo_passes_;
}

void TransformedSource::run_steps(const RowBlock& raw, RowBlock& block) {
  block = raw;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const Index width = schemas_[s].n_features;
    steps_[s]->apply(block, history_[s], buffers_[s]);
    // Keep this step's last history_rows() input rows for the next block.
    if (const Index keep = steps_[s]->history_rows(); keep > 0) {
      auto& h = history_[s];
      const Index from_block = std::min(keep, block.n_rows) * width;
      h.insert(h.end(), block.values.end() - from_block, block.values.end());
      const auto excess = static_cast<Index>(h.size()) - keep * width;
      if (excess > 0) h.erase(h.begin(), h.begin() + excess);
    }
    block.n_features = schemas_[s + 1].n_features;
    block.values = buffers_[s];
  }
}

void TransformedSource::transform(const RowBlock& raw, RowBlock& block) {
  if (steps_.empty()) {
    block = raw;
    check_finite(raw, block);
    if (caching_) cache_.append(block);
    return;
  }
  non_finite_inputs_ += std::count_if(raw.values.begin(), raw.values.end(),
                                      [](double x) { return !std::isfinite(x); });
  // The steps run on slices of the block: their intermediate buffers stay in the processor's
  // cache and are first touched once, not once per block-sized buffer per step. History
  // carries from slice to slice as from block to block, so the values do not change. The
  // output goes straight to the cache when there is one: no block-sized copy in between.
  const Index width = info_.schema.n_features;
  if (!caching_) output_.resize(static_cast<std::size_t>(raw.n_rows * width));
  for (Index begin = 0; begin < raw.n_rows; begin += slice_rows_) {
    const RowBlock slice = raw.slice(begin, std::min(slice_rows_, raw.n_rows - begin));
    RowBlock out;
    run_steps(slice, out);
    check_finite(slice, out);
    if (caching_)
      cache_.append_rows(out.values, slice.labels, slice.n_rows);
    else
      std::copy(out.values.begin(), out.values.end(), output_.begin() + begin * width);
  }
  if (caching_) {
    cache_.end_block();
    cache_.block(cache_.block_count() - 1, info_.local_begin, width, block);
    return;
  }
  block = raw;
  block.n_features = width;
  block.values =
      std::span<const double>(output_).first(static_cast<std::size_t>(raw.n_rows * width));
}

void TransformedSource::check_finite(const RowBlock& raw, const RowBlock& block) const {
  // The steps are deterministic: once a whole pass was checked, later passes hold the same
  // values (a detector's tenth Lloyd pass need not scan them again).
  if (!reject_non_finite_ || cache_decided_) return;
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (Index j = 0; j < d; ++j)
      if (const double x = block.values[i * d + j]; !std::isfinite(x))
        throw non_finite_error(raw, i, j, x);
}

DataError TransformedSource::non_finite_error(const RowBlock& raw, Index i, Index j,
                                              double value) const {
  const Schema& out = info_.schema;
  const std::string where = fmt::format("{}: row {}, column {}: value is {}", input_name_,
                                        raw.global_begin + i, column_label(out, j), value);
  // The first step whose output holds the value non-finite made it, unless the input did.
  const Index in_input = same_column(schemas_[0], out, j);
  if (in_input < 0 || std::isfinite(raw.values[i * raw.n_features + in_input]))
    for (std::size_t s = 0; s < steps_.size(); ++s) {
      const Index k = same_column(schemas_[s + 1], out, j);
      if (k >= 0 && !std::isfinite(buffers_[s][i * schemas_[s + 1].n_features + k]))
        return DataError(fmt::format(
            "{}, produced by feature step {} ({}); the detector cannot take non-finite values: "
            "windows, diffs and lags are NaN until their series has enough rows (as in "
            "pandas), so add {{ op = \"impute\" }} after the step in [features] steps",
            where, s, steps_[s]->type()));
    }
  if (steps_.empty())
    return DataError(fmt::format(
        "{} (set input.nan_policy = \"impute\" to replace non-finite values with the training "
        "rows' column mean)",
        where));
  // With steps, a fill before them (nan_policy) would leave an ffill step nothing to carry.
  return DataError(fmt::format(
      "{}, in the input and left so by the feature steps (an ffill has nothing before it to "
      "carry forward); add {{ op = \"impute\" }} as the last step in [features] steps, or set "
      "input.nan_policy = \"impute\" to fill the input with its column means first",
      where));
}

}  // namespace hpcad
