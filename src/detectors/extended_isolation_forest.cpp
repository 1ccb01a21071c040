#include "hpcad/detectors/extended_isolation_forest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {
namespace {

/// A row's projection on a node's normal, summed in feature order (growing and scoring agree
/// bitwise on which side a row falls).
inline double dot(const double* x, const double* normal, Index d) {
  double sum = 0;
  for (Index j = 0; j < d; ++j) sum += x[j] * normal[j];
  return sum;
}

/// Rows scored side by side: their dot products are independent chains the processor
/// overlaps, where one row's chain of d dependent additions per node would leave it waiting.
constexpr Index kRowGroup = 8;

struct ExtendedTree {
  std::vector<std::int32_t> left;
  std::vector<double> value;
  std::vector<double> normal;
};

/// Grows one extended isolation tree on `sample` (row-major, d columns), as Hariri et al.'s
/// reference implementation: a node splits while it is above the depth limit and holds
/// more than one row, even when the hyperplane leaves one side empty.
ExtendedTree grow_extended_tree(std::span<const double> sample, Index d, Index extension_level,
                                int max_depth, RandomStream& rng) {
  const Index n_rows = static_cast<Index>(sample.size()) / d;
  std::vector<Index> rows(static_cast<std::size_t>(n_rows));
  std::iota(rows.begin(), rows.end(), Index{0});
  std::vector<Index> coordinates(static_cast<std::size_t>(d));
  std::vector<double> projection(static_cast<std::size_t>(n_rows));
  ExtendedTree tree;
  auto add_node = [&tree, d] {
    tree.left.push_back(-1);
    tree.value.push_back(0.0);
    tree.normal.resize(tree.normal.size() + static_cast<std::size_t>(d), 0.0);
    return static_cast<std::int32_t>(tree.left.size() - 1);
  };
  struct Pending {
    std::int32_t node;
    Index begin, end;
    int depth;
  };
  std::vector<Pending> stack{{add_node(), 0, n_rows, 0}};
  auto x = [&](Index row) { return sample.data() + row * d; };
  while (!stack.empty()) {
    const Pending task = stack.back();
    stack.pop_back();
    const Index size = task.end - task.begin;
    if (task.depth >= max_depth || size <= 1) {
      tree.value[task.node] = task.depth + average_path_length(size);
      continue;
    }
    // Normal from N(0, I); d - 1 - extension_level coordinates (a uniform random subset,
    // by partial Fisher-Yates) set to zero.
    std::vector<double> normal(static_cast<std::size_t>(d));
    for (double& v : normal) v = rng.normal();
    std::iota(coordinates.begin(), coordinates.end(), Index{0});
    for (Index k = 0; k < d - 1 - extension_level; ++k) {
      const Index j = k + static_cast<Index>(rng.below(static_cast<std::uint64_t>(d - k)));
      std::swap(coordinates[k], coordinates[j]);
      normal[coordinates[k]] = 0.0;
    }
    // The intercept point, uniform in the node's bounding box.
    double offset = 0;
    for (Index j = 0; j < d; ++j) {
      double lo = x(rows[task.begin])[j], hi = lo;
      for (Index i = task.begin + 1; i < task.end; ++i) {
        lo = std::min(lo, x(rows[i])[j]);
        hi = std::max(hi, x(rows[i])[j]);
      }
      offset += (lo + rng.uniform() * (hi - lo)) * normal[j];
    }
    const auto middle =
        std::partition(rows.begin() + task.begin, rows.begin() + task.end,
                       [&](Index r) { return dot(x(r), normal.data(), d) <= offset; });
    const Index mid = middle - rows.begin();
    const std::int32_t left = add_node();
    add_node();
    tree.left[task.node] = left;
    tree.value[task.node] = offset;
    std::copy(normal.begin(), normal.end(), tree.normal.begin() + task.node * d);
    stack.push_back({left + 1, mid, task.end, task.depth + 1});
    stack.push_back({left, task.begin, mid, task.depth + 1});
  }
  return tree;
}

}  // namespace

std::vector<ParamSpec> ExtendedIsolationForest::param_specs() {
  return {
      ParamSpec::integer("n_trees", 100, 1, 1'000'000, "number of trees"),
      ParamSpec::integer("sample_size", 256, 2, 100'000'000,
                         "rows drawn (without replacement, from all ranks' rows) to grow each "
                         "tree; capped at the number of rows"),
      ParamSpec::integer("extension_level", -1, -1, 1 << 20,
                         "non-zero coordinates of each split's normal minus one: 0 = "
                         "axis-parallel (as iforest), at most d - 1; -1 = d - 1 (fully extended)"),
      ParamSpec::integer("max_depth", 0, 0, 64,
                         "depth limit of each tree; 0 = ceil(log2(sample_size))"),
      ParamSpec::boolean("standardize", false,
                         "scale columns to zero mean and unit variance first (global, stored); "
                         "off by default as Hariri et al.'s implementation (on ADBench it "
                         "helps annthyroid and hurts optdigits and wine)"),
      ParamSpec::integer("seed", 42, 0, std::numeric_limits<std::int64_t>::max(),
                         "random seed; the same seed gives the same model for any rank count"),
  };
}

Index ExtendedIsolationForest::extension_level(Index n_features) const {
  const Index level = params_.integer("extension_level");
  if (level > n_features - 1)
    throw ConfigError(
        fmt::format("detector.extension_level = {}: the input has {} features, so at most {}",
                    level, n_features, n_features - 1));
  return level < 0 ? n_features - 1 : level;
}

void ExtendedIsolationForest::fit(FitContext& context, RowSource& source) {
  const Index n = source.global_rows();
  if (n == 0) throw DataError("cannot fit eif: the input has no rows");
  n_features_ = source.n_features();
  if (n_features_ == 0) throw DataError("cannot fit eif: the input has no features");
  const Index level = extension_level(n_features_);
  if (params_.boolean("standardize")) {
    const ColumnMoments moments = column_moments(source, CoMoments::kVariances);
    mean_ = moments.mean;
    scale_ = standard_scale(moments);
  } else {
    mean_.assign(static_cast<std::size_t>(n_features_), 0.0);
    scale_.assign(static_cast<std::size_t>(n_features_), 1.0);
  }
  const auto seed = static_cast<std::uint64_t>(params_.integer("seed"));
  sample_size_ = std::min<Index>(params_.integer("sample_size"), n);
  const int max_depth = isolation_depth_limit(params_.integer("max_depth"), sample_size_);
  ExtendedTree grown;  // this rank's trees, concatenated
  tree_offsets_ = grow_sampled_trees(
      context, source, params_.integer("n_trees"), sample_size_, seed, "eif",
      [&](Index t, std::span<const double> sample) {
        std::vector<double> z(sample.begin(), sample.end());
        for (Index i = 0; i < sample_size_; ++i)
          standardize(sample.subspan(i * n_features_, n_features_), z.data() + i * n_features_);
        RandomStream rng(seed, "eif.split", static_cast<std::uint64_t>(t));
        const ExtendedTree tree = grow_extended_tree(z, n_features_, level, max_depth, rng);
        grown.left.insert(grown.left.end(), tree.left.begin(), tree.left.end());
        grown.value.insert(grown.value.end(), tree.value.begin(), tree.value.end());
        grown.normal.insert(grown.normal.end(), tree.normal.begin(), tree.normal.end());
        return static_cast<Index>(tree.left.size());
      });
  left_ = context.comm.allgatherv<std::int32_t>(grown.left);
  value_ = context.comm.allgatherv<double>(grown.value);
  normal_ = context.comm.allgatherv<double>(grown.normal);
}

void ExtendedIsolationForest::score(const RowBlock& block, std::span<double> out) const {
  const Index d = n_features_;
  check_internal(block.n_features == d && static_cast<Index>(out.size()) == block.n_rows,
                 "score block shape");
  const double normaliser =
      average_path_length(sample_size_) * static_cast<double>(tree_offsets_.size() - 1);
  std::vector<double> z(static_cast<std::size_t>(kRowGroup * d));
  for (Index first = 0; first < block.n_rows; first += kRowGroup) {
    const Index rows = std::min(kRowGroup, block.n_rows - first);
    for (Index r = 0; r < rows; ++r) standardize(block.row(first + r), z.data() + r * d);
    double path[kRowGroup] = {};  // each row's summed in tree order
    for (std::size_t t = 0; t + 1 < tree_offsets_.size(); ++t) {
      Index node[kRowGroup];
      std::fill_n(node, rows, tree_offsets_[t]);
      for (bool descending = true; descending;) {
        descending = false;
        for (Index r = 0; r < rows; ++r) {
          if (left_[node[r]] < 0) continue;
          descending = true;
          const bool right =
              dot(z.data() + r * d, normal_.data() + node[r] * d, d) > value_[node[r]];
          node[r] = tree_offsets_[t] + left_[node[r]] + (right ? 1 : 0);
        }
      }
      for (Index r = 0; r < rows; ++r) path[r] += value_[node[r]];
    }
    // One training row: 0 / 0, scored 0.5 as the isolation forest does.
    for (Index r = 0; r < rows; ++r)
      out[first + r] = normaliser == 0 ? 0.5 : std::exp2(-path[r] / normaliser);
  }
}

void ExtendedIsolationForest::standardize(std::span<const double> x, double* z) const {
  standardize_row(mean_, scale_, x, z);
}

ModelState ExtendedIsolationForest::save_state() const {
  ModelState state;
  state.reals["mean"] = mean_;
  state.reals["scale"] = scale_;
  state.integers["node_left"].assign(left_.begin(), left_.end());
  state.reals["node_value"] = value_;
  state.reals["node_normal"] = normal_;
  state.integers["tree_offsets"] = tree_offsets_;
  state.integers["effective_sample_size"] = {sample_size_};
  state.reals["path_length_normaliser"] = {average_path_length(sample_size_)};
  return state;
}

void ExtendedIsolationForest::load_state(Index n_features, const ModelState& state) {
  const auto& left = state.integer("node_left");
  const std::size_t n_nodes = left.size();
  const auto& value = state.real("node_value", n_nodes);
  const auto& normal = state.real("node_normal", n_nodes * static_cast<std::size_t>(n_features));
  const auto& mean = state.real("mean", static_cast<std::size_t>(n_features));
  const auto& scale = state.real("scale", static_cast<std::size_t>(n_features));
  state.require_finite({"node_normal", "mean", "scale"}, "eif");
  for (const double s : scale)
    if (!(s > 0)) throw DataError(fmt::format("{}: eif scale must be positive", state.where));
  const Index psi = validated_sample_size(state, params_.integer("sample_size"), "eif");
  const std::vector<Index> offsets =
      validated_tree_offsets(state, params_.integer("n_trees"), static_cast<Index>(n_nodes), "eif");
  const Index level = extension_level(n_features);
  // A split's normal has between 1 and extension_level + 1 non-zero coordinates.
  auto normal_ok = [&](Index at) {
    const auto begin = normal.begin() + at * n_features;
    const auto nonzero = std::count_if(begin, begin + n_features, [](double v) { return v != 0; });
    return nonzero >= 1 && nonzero <= level + 1;
  };
  for (std::size_t t = 0; t + 1 < offsets.size(); ++t) {
    const std::string problem = tree_structure_problem(
        left, value, offsets[t], offsets[t + 1] - offsets[t],
        isolation_depth_limit(params_.integer("max_depth"), psi),
        [&](Index at) { return left[at] == -1; }, normal_ok, "normal");
    if (!problem.empty())
      throw DataError(fmt::format("{}: invalid eif: tree {} {}", state.where, t, problem));
  }
  n_features_ = n_features;
  sample_size_ = psi;
  mean_ = mean;
  scale_ = scale;
  left_.assign(left.begin(), left.end());
  value_ = value;
  normal_ = normal;
  tree_offsets_ = offsets;
}

}  // namespace hpcad
