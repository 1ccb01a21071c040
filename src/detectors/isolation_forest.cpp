#include "hpcad/detectors/isolation_forest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "hpcad/core/error.hpp"
#include "hpcad/data/partition.hpp"

namespace hpcad {
namespace {

// sklearn treats a feature as constant at a node when max <= min + 1e-7.
constexpr double kConstantFeatureTolerance = 1e-7;
constexpr double kEulerGamma = 0.5772156649015329;

}  // namespace

std::string tree_structure_problem(const std::vector<std::int64_t>& left,
                                   const std::vector<double>& value, Index begin, Index size,
                                   int max_depth, const NodeCheck& is_leaf,
                                   const NodeCheck& split_ok, const char* split_name) {
  std::vector<int> depth(static_cast<std::size_t>(size), -1);
  depth[0] = 0;
  for (Index i = 0; i < size; ++i) {
    const Index at = begin + i;
    if (depth[i] < 0) return fmt::format("node {} has no parent", i);
    if (!std::isfinite(value[at])) return fmt::format("node {}: non-finite value", i);
    if (is_leaf(at)) {
      if (left[at] != -1 || value[at] < 0)
        return fmt::format("leaf {}: child index or path length out of range", i);
      if (depth[i] > max_depth)
        return fmt::format("leaf {} is deeper than max_depth = {}", i, max_depth);
      continue;
    }
    if (!split_ok(at) || left[at] <= i || left[at] >= size - 1)
      return fmt::format("node {}: {} or child index out of range", i, split_name);
    if (depth[left[at]] >= 0 || depth[left[at] + 1] >= 0)
      return fmt::format("node {}: a child already has a parent", i);
    depth[left[at]] = depth[left[at] + 1] = depth[i] + 1;
  }
  return "";
}

std::vector<Index> validated_tree_offsets(const ModelState& state, Index n_trees, Index n_nodes,
                                          const char* model) {
  const auto& offsets = state.integer("tree_offsets");
  auto fail = [&](const std::string& why) {
    throw DataError(fmt::format("{}: invalid {}: {}", state.where, model, why));
  };
  if (static_cast<Index>(offsets.size()) - 1 != n_trees)
    fail("tree count differs from the n_trees hyperparameter");
  if (offsets.front() != 0 || offsets.back() != n_nodes)
    fail("tree_offsets do not span the node arrays");
  for (std::size_t t = 0; t + 1 < offsets.size(); ++t) {
    if (offsets[t + 1] <= offsets[t] || offsets[t + 1] > n_nodes)
      fail(fmt::format("tree {} is empty or its offsets are out of order", t));
    if (offsets[t + 1] - offsets[t] > std::numeric_limits<std::int32_t>::max())
      fail(fmt::format("tree {} is too large", t));
  }
  return offsets;
}

Index validated_sample_size(const ModelState& state, Index max_sample_size, const char* model) {
  const Index psi = state.integer_value("effective_sample_size");
  const double norm = state.real_value("path_length_normaliser");
  if (psi < 1 || psi > max_sample_size || norm != average_path_length(psi))
    throw DataError(
        fmt::format("{}: invalid {}: effective_sample_size and "
                    "path_length_normaliser disagree",
                    state.where, model));
  return psi;
}

int isolation_depth_limit(std::int64_t max_depth, Index sample_size) {
  if (max_depth > 0) return static_cast<int>(max_depth);
  return static_cast<int>(std::ceil(std::log2(std::max<Index>(sample_size, 2))));
}

std::vector<Index> grow_sampled_trees(FitContext& context, RowSource& source, Index n_trees,
                                      Index sample_size, std::uint64_t seed, std::string_view name,
                                      const GrowTree& grow) {
  const Index n = source.global_rows(), d = source.n_features();
  // Each tree's sample, by global row index: any rank can compute any tree's sample.
  const std::string sample_stream = fmt::format("{}.sample", name);
  std::vector<std::vector<Index>> samples(static_cast<std::size_t>(n_trees));
  std::vector<Index> wanted;
  for (Index t = 0; t < n_trees; ++t) {
    RandomStream rng(seed, sample_stream, static_cast<std::uint64_t>(t));
    samples[t] = sample_without_replacement(n, sample_size, rng);
    wanted.insert(wanted.end(), samples[t].begin(), samples[t].end());
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  const std::vector<double> sampled_rows = gather_rows(source, wanted);
  context.log.debug("{}: gathered {} distinct sampled rows for {} trees", name, wanted.size(),
                    n_trees);

  // This rank grows a contiguous block of trees; their sizes are gathered in tree order.
  Comm& comm = context.comm;
  const IndexRange mine = partition_rows(n_trees, comm.size(), comm.rank());
  std::vector<Index> tree_sizes;
  std::vector<double> sample(static_cast<std::size_t>(sample_size * d));
  for (Index t = mine.begin; t < mine.end; ++t) {
    for (Index i = 0; i < sample_size; ++i) {
      const Index at =
          std::lower_bound(wanted.begin(), wanted.end(), samples[t][i]) - wanted.begin();
      std::copy_n(sampled_rows.begin() + at * d, d, sample.begin() + i * d);
    }
    tree_sizes.push_back(grow(t, sample));
  }
  std::vector<Index> offsets{0};
  for (const Index size : comm.allgatherv<Index>(tree_sizes))
    offsets.push_back(offsets.back() + size);
  check_internal(static_cast<Index>(offsets.size()) == n_trees + 1, "every tree gathered once");
  return offsets;
}

double average_path_length(Index n) {
  if (n <= 1) return 0.0;
  if (n == 2) return 1.0;
  const double m = static_cast<double>(n);
  return 2.0 * (std::log(m - 1.0) + kEulerGamma) - 2.0 * (m - 1.0) / m;
}

IsolationTree grow_isolation_tree(std::span<const double> sample, Index n_features, int max_depth,
                                  RandomStream& rng) {
  const Index n_rows = static_cast<Index>(sample.size()) / n_features;
  std::vector<Index> rows(static_cast<std::size_t>(n_rows));
  std::iota(rows.begin(), rows.end(), Index{0});
  std::vector<std::int32_t> features(static_cast<std::size_t>(n_features));
  std::iota(features.begin(), features.end(), 0);

  IsolationTree tree;
  auto add_node = [&tree] {
    tree.feature.push_back(-1);
    tree.left.push_back(-1);
    tree.value.push_back(0.0);
    return static_cast<std::int32_t>(tree.feature.size() - 1);
  };
  struct Pending {
    std::int32_t node;
    Index begin, end;
    int depth;
  };
  std::vector<Pending> stack{{add_node(), 0, n_rows, 0}};
  auto x = [&](Index row, std::int32_t f) { return sample[row * n_features + f]; };

  while (!stack.empty()) {
    const Pending task = stack.back();
    stack.pop_back();
    const Index size = task.end - task.begin;
    bool split = false;
    if (task.depth < max_depth && size > 1) {
      // Features in random order until one is not constant on this node (sklearn's
      // random splitter does the same), so constant features never end a branch early.
      for (Index k = 0; k < n_features && !split; ++k) {
        const Index j =
            k + static_cast<Index>(rng.below(static_cast<std::uint64_t>(n_features - k)));
        std::swap(features[k], features[j]);
        const std::int32_t f = features[k];
        double lo = x(rows[task.begin], f), hi = lo;
        for (Index i = task.begin + 1; i < task.end; ++i) {
          lo = std::min(lo, x(rows[i], f));
          hi = std::max(hi, x(rows[i], f));
        }
        if (hi <= lo + kConstantFeatureTolerance) continue;
        double threshold = lo + rng.uniform() * (hi - lo);
        if (threshold >= hi) threshold = lo;  // keeps both children non-empty
        const auto middle = std::partition(rows.begin() + task.begin, rows.begin() + task.end,
                                           [&](Index r) { return x(r, f) <= threshold; });
        const Index mid = middle - rows.begin();
        const std::int32_t left = add_node();
        add_node();
        tree.feature[task.node] = f;
        tree.left[task.node] = left;
        tree.value[task.node] = threshold;
        stack.push_back({left + 1, mid, task.end, task.depth + 1});
        stack.push_back({left, task.begin, mid, task.depth + 1});
        split = true;
      }
    }
    if (!split) tree.value[task.node] = task.depth + average_path_length(size);
  }
  return tree;
}

std::vector<ParamSpec> IsolationForest::param_specs() {
  return {
      ParamSpec::integer("n_trees", 100, 1, 1'000'000, "number of trees"),
      ParamSpec::integer("sample_size", 256, 2, 100'000'000,
                         "rows drawn (without replacement, from all ranks' rows) to grow each "
                         "tree; capped at the number of rows"),
      ParamSpec::integer("max_depth", 0, 0, 64,
                         "depth limit of each tree; 0 = ceil(log2(sample_size)) as scikit-learn"),
      ParamSpec::boolean("standardize", false,
                         "scale columns to zero mean and unit variance first (global, stored in "
                         "the model); off by default as scikit-learn: splits drawn uniformly "
                         "between a column's extremes hardly depend on its scale"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed; the same seed gives the same model for any rank count"),
  };
}

void IsolationForest::fit(FitContext& context, RowSource& source) {
  const Index n = source.global_rows();
  if (n == 0) throw DataError("cannot fit an isolation forest: the input has no rows");
  n_features_ = source.n_features();
  if (n_features_ == 0)
    throw DataError("cannot fit an isolation forest: the input has no features");
  scaling_ = ColumnScaling::fit(source, params_.boolean("standardize"));
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  sample_size_ = std::min<Index>(params_.integer("sample_size"), n);
  const int max_depth = depth_limit(sample_size_);
  IsolationTree grown;  // this rank's trees, concatenated
  std::vector<double> scaled;
  tree_offsets_ = grow_sampled_trees(
      context, source, params_.integer("n_trees"), sample_size_, seed, "iforest",
      [&](Index t, std::span<const double> sample) {
        RandomStream rng(seed, "iforest.split", static_cast<std::uint64_t>(t));
        const IsolationTree tree =
            grow_isolation_tree(scaling_.apply(sample, scaled), n_features_, max_depth, rng);
        grown.feature.insert(grown.feature.end(), tree.feature.begin(), tree.feature.end());
        grown.left.insert(grown.left.end(), tree.left.begin(), tree.left.end());
        grown.value.insert(grown.value.end(), tree.value.begin(), tree.value.end());
        return static_cast<Index>(tree.feature.size());
      });
  feature_ = context.comm.allgatherv<std::int32_t>(grown.feature);
  left_ = context.comm.allgatherv<std::int32_t>(grown.left);
  value_ = context.comm.allgatherv<double>(grown.value);
  normaliser_ = average_path_length(sample_size_) * static_cast<double>(params_.integer("n_trees"));
  build_walk_layout();
}

int IsolationForest::depth_limit(Index sample_size) const {
  return isolation_depth_limit(params_.integer("max_depth"), sample_size);
}

void IsolationForest::build_walk_layout() {
  const std::size_t n_nodes = feature_.size();
  walk_.resize(n_nodes);
  leaf_value_.assign(n_nodes, 0.0);
  tree_depth_.clear();
  std::vector<int> depth(n_nodes, 0);
  for (std::size_t t = 0; t + 1 < tree_offsets_.size(); ++t) {
    const Index begin = tree_offsets_[t];
    int tree_depth = 0;
    // Children come after their parent (checked on load), so one forward pass sets depths.
    for (Index i = 0; i < tree_offsets_[t + 1] - begin; ++i) {
      const Index at = begin + i;
      if (feature_[at] < 0) {
        walk_[at] = {0, static_cast<std::int32_t>(i), std::numeric_limits<double>::infinity()};
        leaf_value_[at] = value_[at];
        tree_depth = std::max(tree_depth, depth[at]);
      } else {
        walk_[at] = {feature_[at], left_[at], value_[at]};
        depth[begin + left_[at]] = depth[begin + left_[at] + 1] = depth[at] + 1;
      }
    }
    tree_depth_.push_back(tree_depth);
  }
}

void IsolationForest::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features_;
  const Index n = block.n_rows;
  // One buffer per thread: scoring is const and thread-safe, and a fresh one per block
  // would cost page faults on every call when standardize is on.
  thread_local std::vector<double> scaled;
  const std::span<const double> rows = scaling_.apply(block.values, scaled);
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == n, "score block shape");
  std::fill(out.begin(), out.end(), 0.0);
  // Trees outer, rows inner: one tree (a few KB) stays in L1 while the block streams by.
  // Rows walk in groups of kLanes in lock-step for memory-level parallelism. Per row, path
  // lengths are summed in tree order, so scores do not depend on blocking or grouping.
  constexpr Index kLanes = 8;
  for (std::size_t t = 0; t + 1 < tree_offsets_.size(); ++t) {
    const WalkNode* tree = walk_.data() + tree_offsets_[t];
    const double* leaf = leaf_value_.data() + tree_offsets_[t];
    const int depth = tree_depth_[t];
    Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      const double* x = rows.data() + i * d;
      std::int32_t node[kLanes] = {};
      for (int step = 0; step < depth; ++step)
        for (Index k = 0; k < kLanes; ++k) {
          const WalkNode& w = tree[node[k]];
          node[k] = w.next_left + (x[k * d + w.feature] > w.threshold ? 1 : 0);
        }
      for (Index k = 0; k < kLanes; ++k) out[i + k] += leaf[node[k]];
    }
    for (; i < n; ++i) {
      const double* x = rows.data() + i * d;
      std::int32_t node = 0;
      for (int step = 0; step < depth; ++step)
        node = tree[node].next_left + (x[tree[node].feature] > tree[node].threshold ? 1 : 0);
      out[i] += leaf[node];
    }
  }
  // One training row: every path length and c(1) are 0. scikit-learn defines the score of
  // 0 / 0 as 2^-1 = 0.5 (neither anomalous nor normal); so do we, instead of NaN.
  if (normaliser_ == 0) return std::fill(out.begin(), out.end(), 0.5);
  for (Index i = 0; i < n; ++i) out[i] = std::exp2(-out[i] / normaliser_);
}

ModelState IsolationForest::save_state() const {
  ModelState state;
  scaling_.save(state);
  state.integers["node_feature"].assign(feature_.begin(), feature_.end());
  state.integers["node_left"].assign(left_.begin(), left_.end());
  state.reals["node_value"] = value_;
  state.integers["tree_offsets"] = tree_offsets_;
  state.integers["effective_sample_size"] = {sample_size_};
  state.reals["path_length_normaliser"] = {average_path_length(sample_size_)};
  return state;
}

void IsolationForest::load_state(Index n_features, const ModelState& state) {
  ColumnScaling scaling =
      ColumnScaling::load(state, static_cast<std::size_t>(n_features), "isolation forest");
  const auto& feature = state.integer("node_feature");
  const std::size_t n_nodes = feature.size();
  const auto& left = state.integer("node_left", n_nodes);
  const auto& value = state.real("node_value", n_nodes);
  const Index psi =
      validated_sample_size(state, params_.integer("sample_size"), "isolation forest");
  const std::vector<Index> offsets = validated_tree_offsets(
      state, params_.integer("n_trees"), static_cast<Index>(n_nodes), "isolation forest");
  for (std::size_t t = 0; t + 1 < offsets.size(); ++t) {
    const std::string problem = tree_structure_problem(
        left, value, offsets[t], offsets[t + 1] - offsets[t], depth_limit(psi),
        [&](Index at) { return feature[at] == -1; },
        [&](Index at) { return feature[at] >= 0 && feature[at] < n_features; }, "feature");
    if (!problem.empty())
      throw DataError(
          fmt::format("{}: invalid isolation forest: tree {} {}", state.where, t, problem));
  }
  n_features_ = n_features;
  scaling_ = std::move(scaling);
  sample_size_ = psi;
  feature_.assign(feature.begin(), feature.end());
  left_.assign(left.begin(), left.end());
  value_ = value;
  tree_offsets_ = offsets;
  normaliser_ = average_path_length(psi) * static_cast<double>(offsets.size() - 1);
  build_walk_layout();
}

}  // namespace hpcad
