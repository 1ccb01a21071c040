#include "hpcad/comm/selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

/// Doubles mapped to unsigned integers in the same order (-inf < ... < -0 < +0 < ... < inf),
/// so brackets and bins are integer ranges and counting is exact.
using Key = std::uint64_t;
constexpr Key kSignBit = Key{1} << 63;

Key order_key(double x) {
  const auto bits = std::bit_cast<Key>(x);
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}

double key_value(Key key) {
  return std::bit_cast<double>((key & kSignBit) != 0 ? key & ~kSignBit : ~key);
}

/// Bins per bracket and pass: at most kMaxBins, and kMaxCounts over all brackets so one
/// reduction stays small however many order statistics are wanted.
constexpr std::int64_t kMaxBins = 4096;
constexpr std::int64_t kMinBins = 64;
constexpr std::int64_t kMaxCounts = std::int64_t{1} << 18;
/// A bracket holding at most this many values (over all ranks) is gathered and sorted.
constexpr std::int64_t kGatherLimit = std::int64_t{1} << 14;

/// A key range [lo, hi] of one column that holds wanted order statistics.
struct Bracket {
  Index column = 0;
  Key lo = 0, hi = std::numeric_limits<Key>::max();
  std::int64_t below = 0;  // values of the column (all ranks) with key < lo
  bool gather = false;     // the next pass collects its values instead of counting bins
  std::int64_t bins = 0;
  std::int64_t first_count = 0;  // offset of its bins in the pass's count vector
  Key width() const { return (hi - lo) / static_cast<Key>(bins) + 1; }
};

/// One wanted order statistic: the value at 0-based `position` of the column's sorted values.
struct Target {
  Index column = 0;
  std::int64_t position = 0;
  int bracket = -1;  // -1 once resolved
  Key key = 0;
};

struct TaggedKey {
  std::int64_t bracket;
  Key key;
};

class Selection {
 public:
  Selection(Comm& comm, Index n_columns, const ColumnPass& pass)
      : comm_(comm), n_columns_(n_columns), pass_(pass) {
    for (Index c = 0; c < n_columns; ++c) brackets_.push_back(Bracket{.column = c});
  }

  /// Values per column over all ranks (NaN excluded); runs the first pass.
  std::vector<std::int64_t> count_values() {
    run_pass();
    std::vector<std::int64_t> n(n_columns_, 0);
    for (const Bracket& b : brackets_)
      for (std::int64_t i = 0; i < b.bins; ++i) n[b.column] += counts_[b.first_count + i];
    return n;
  }

  /// The order statistics at `positions` (each within its column's count) by key.
  void select(std::vector<Target>& targets) {
    for (Target& t : targets) t.bracket = static_cast<int>(t.column);
    refine(targets);
    while (!brackets_.empty()) {
      run_pass();
      refine(targets);
    }
  }

 private:
  void assign_bins() {
    std::int64_t counting = 0;
    for (const Bracket& b : brackets_) counting += b.gather ? 0 : 1;
    const std::int64_t bins =
        counting == 0 ? 0 : std::clamp(kMaxCounts / counting, kMinBins, kMaxBins);
    std::int64_t offset = 0;
    for (Bracket& b : brackets_) {
      b.bins = b.gather ? 0 : bins;
      b.first_count = offset;
      offset += b.bins;
    }
    counts_.assign(offset, 0);
  }

  /// One pass over the values: bin counts of counting brackets, values of gathering ones.
  void run_pass() {
    assign_bins();
    // Brackets of one column are disjoint: find a value's bracket by binary search on lo.
    std::vector<std::vector<int>> by_column(n_columns_);
    for (int i = 0; i < static_cast<int>(brackets_.size()); ++i)
      by_column[brackets_[i].column].push_back(i);
    for (auto& list : by_column)
      std::sort(list.begin(), list.end(),
                [&](int a, int b) { return brackets_[a].lo < brackets_[b].lo; });
    std::vector<TaggedKey> local;
    pass_([&](Index column, double value) {
      if (std::isnan(value)) return;
      if (column < 0 || column >= n_columns_)
        throw InternalError(fmt::format("quantile pass visited column {}", column));
      const Key key = order_key(value);
      const auto& list = by_column[column];
      auto it = std::upper_bound(list.begin(), list.end(), key,
                                 [&](Key k, int b) { return k < brackets_[b].lo; });
      if (it == list.begin()) return;
      const Bracket& b = brackets_[*(it - 1)];
      if (key > b.hi) return;
      if (b.gather)
        local.push_back({*(it - 1), key});
      else
        ++counts_[b.first_count + static_cast<std::int64_t>((key - b.lo) / b.width())];
    });
    comm_.allreduce(counts_, ReduceOp::kSum);
    gathered_ = comm_.allgatherv<TaggedKey>(local);
    std::sort(gathered_.begin(), gathered_.end(), [](const TaggedKey& a, const TaggedKey& b) {
      return a.bracket != b.bracket ? a.bracket < b.bracket : a.key < b.key;
    });
  }

  /// Resolves targets whose bracket was gathered, narrows the others to the bin holding
  /// their position, and makes the next pass's brackets (one per distinct bin).
  void refine(std::vector<Target>& targets) {
    std::vector<Bracket> next;
    std::map<std::pair<int, std::int64_t>, int> next_index;  // (bracket, bin) -> next bracket
    for (Target& t : targets) {
      if (t.bracket < 0) continue;
      const Bracket& b = brackets_[t.bracket];
      const std::int64_t rank_in_bracket = t.position - b.below;
      if (b.gather) {
        const auto first = std::lower_bound(
            gathered_.begin(), gathered_.end(), TaggedKey{t.bracket, 0},
            [](const TaggedKey& a, const TaggedKey& k) {
              return a.bracket != k.bracket ? a.bracket < k.bracket : a.key < k.key;
            });
        t.key = (first + rank_in_bracket)->key;
        t.bracket = -1;
        continue;
      }
      std::int64_t bin = 0, before = 0;
      while (before + counts_[b.first_count + bin] <= rank_in_bracket)
        before += counts_[b.first_count + bin++];
      const std::int64_t in_bin = counts_[b.first_count + bin];
      const Key lo = b.lo + static_cast<Key>(bin) * b.width();
      const Key hi = b.hi - lo < b.width() - 1 ? b.hi : lo + (b.width() - 1);
      if (lo == hi) {  // one key: every value in the bin is this one
        t.key = lo;
        t.bracket = -1;
        continue;
      }
      auto [slot, inserted] =
          next_index.try_emplace({t.bracket, bin}, static_cast<int>(next.size()));
      if (inserted)
        next.push_back(Bracket{.column = b.column, .lo = lo, .hi = hi,
                               .below = b.below + before, .gather = in_bin <= kGatherLimit});
      t.bracket = slot->second;
    }
    brackets_ = std::move(next);
  }

  Comm& comm_;
  Index n_columns_;
  const ColumnPass& pass_;
  std::vector<Bracket> brackets_;
  std::vector<std::int64_t> counts_;
  std::vector<TaggedKey> gathered_;
};

/// numpy.quantile's default ("linear") interpolation, reproduced operation by operation so
/// the results agree bitwise: virtual index (n - 1) * q, then its _lerp.
struct LinearQuantile {
  std::int64_t below = 0, above = 0;
  double gamma = 0;

  LinearQuantile(std::int64_t n, double q) {
    const double virtual_index = static_cast<double>(n - 1) * q;
    const double previous = std::floor(virtual_index);
    const auto last = static_cast<double>(n - 1);
    below = static_cast<std::int64_t>(std::clamp(previous, 0.0, last));
    above = static_cast<std::int64_t>(std::clamp(previous + 1.0, 0.0, last));
    gamma = virtual_index - previous;
  }

  double interpolate(double a, double b) const {
    const double diff = b - a;
    return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
  }
};

}  // namespace

std::vector<std::vector<double>> global_quantiles(Comm& comm, Index n_columns,
                                                  const ColumnPass& pass,
                                                  std::span<const double> probs) {
  for (const double p : probs)
    if (!(p >= 0.0 && p <= 1.0))
      throw InternalError(fmt::format("quantile probability {} outside [0, 1]", p));
  Selection selection(comm, n_columns, pass);
  const std::vector<std::int64_t> n = selection.count_values();

  std::vector<Target> targets;
  std::vector<std::vector<LinearQuantile>> plans(n_columns);
  for (Index c = 0; c < n_columns; ++c) {
    if (n[c] == 0) continue;
    for (const double p : probs) {
      const LinearQuantile& plan = plans[c].emplace_back(n[c], p);
      targets.push_back({.column = c, .position = plan.below});
      targets.push_back({.column = c, .position = plan.above});
    }
  }
  selection.select(targets);

  std::vector<std::vector<double>> result(n_columns);
  auto target = targets.begin();
  for (Index c = 0; c < n_columns; ++c) {
    if (n[c] == 0) {
      result[c].assign(probs.size(), std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    for (const LinearQuantile& plan : plans[c]) {
      const double a = key_value(target++->key), b = key_value(target++->key);
      result[c].push_back(plan.interpolate(a, b));
    }
  }
  return result;
}

std::vector<double> global_quantiles(Comm& comm, std::span<const double> local,
                                     std::span<const double> probs) {
  const ColumnPass pass = [&](const std::function<void(Index, double)>& visit) {
    for (const double x : local) visit(0, x);
  };
  return global_quantiles(comm, 1, pass, probs)[0];
}

}  // namespace hpcad
