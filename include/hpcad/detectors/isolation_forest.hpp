#pragma once
/// Isolation forest (Liu, Ting, Zhou 2008) with scikit-learn's scoring conventions
/// (path length = depth + c(leaf size), score = 2^(-E[h] / c(sample_size))), so scores
/// are comparable with sklearn's -score_samples.
///
/// Distributed training: tree t's sample is drawn uniformly from all rows by global row
/// index from the stream (seed, "iforest.sample", t); the sampled rows are gathered in one
/// pass over the source; tree t is grown by one rank from the stream (seed,
/// "iforest.split", t); trees are allgathered in tree order. The model therefore depends only on
/// the data and the seed, not on the rank count or how rows are split.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hpcad/core/rng.hpp"
#include "hpcad/detectors/detector.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

/// Average path length of an unsuccessful search in a binary search tree of n points,
/// c(n) = 2 H(n-1) - 2 (n-1)/n, as sklearn's _average_path_length (c(1) = 0, c(2) = 1).
double average_path_length(Index n);

/// One isolation tree as flat arrays. Node i is a leaf when feature[i] < 0, with
/// value[i] = depth + c(leaf size); otherwise rows with x[feature] <= value[i] go to
/// child left[i] and the others to left[i] + 1.
struct IsolationTree {
  std::vector<std::int32_t> feature;
  std::vector<std::int32_t> left;
  std::vector<double> value;
};

/// A test of node `at` (an index into the node arrays).
using NodeCheck = std::function<bool(Index at)>;

/// Why nodes [begin, begin + size) of the node arrays are not one well-formed binary tree,
/// or "" when they are: a leaf (is_leaf) has left = -1 and a finite, non-negative path
/// length in value, at depth <= max_depth (a crafted chain of nodes would otherwise make
/// scoring quadratic); an internal node has a valid split (split_ok; `split_name` names it
/// in the message) and children left, left + 1 after it inside the tree with no other
/// parent, so the nodes form a single tree. Indices are checked in 64 bits before use.
std::string tree_structure_problem(const std::vector<std::int64_t>& left,
                                   const std::vector<double>& value, Index begin, Index size,
                                   int max_depth, const NodeCheck& is_leaf,
                                   const NodeCheck& split_ok, const char* split_name);

/// The loaded "tree_offsets" of a forest of `n_trees` trees over `n_nodes` nodes: from 0 to
/// n_nodes, strictly increasing, each tree below 2^31 nodes; DataError naming `model` else.
std::vector<Index> validated_tree_offsets(const ModelState& state, Index n_trees, Index n_nodes,
                                          const char* model);

/// The loaded "effective_sample_size" (in [1, max_sample_size]) after checking that
/// "path_length_normaliser" is its c(psi); DataError naming `model` else.
Index validated_sample_size(const ModelState& state, Index max_sample_size, const char* model);

/// The deepest a leaf may be for trees grown on `sample_size` rows: max_depth, or
/// ceil(log2(sample_size)) when it is 0 (scikit-learn's default).
int isolation_depth_limit(std::int64_t max_depth, Index sample_size);

/// Grows tree `tree` on `sample` (sample_size x n_features, row-major) into the caller's
/// arrays and returns its node count.
using GrowTree = std::function<Index(Index tree, std::span<const double> sample)>;

/// Collective. The sampling every isolation-type forest shares: tree t's sample is drawn
/// uniformly without replacement from all rows by global row index from the stream (seed,
/// "<name>.sample", t); all sampled rows are gathered in one pass over the source; this rank
/// grows a contiguous block of trees (partition_rows) in tree order by calling `grow`, so
/// allgathering the caller's node arrays puts the trees in order. Returns every tree's node
/// offsets (n_trees + 1 values, from 0), the same on every rank.
std::vector<Index> grow_sampled_trees(FitContext& context, RowSource& source, Index n_trees,
                                      Index sample_size, std::uint64_t seed, std::string_view name,
                                      const GrowTree& grow);

/// Grows one tree on `sample` (row-major, n_features columns) with the given stream.
IsolationTree grow_isolation_tree(std::span<const double> sample, Index n_features, int max_depth,
                                  RandomStream& rng);

class IsolationForest final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit IsolationForest(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "iforest"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return n_features_; }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Scoring layout, derived from the flat arrays: a leaf loops to itself with an
  /// infinite threshold, so every row walks exactly `depth` steps without a leaf test and
  /// several rows can walk one tree in lock-step (independent loads overlap).
  struct WalkNode {  // 16 bytes: four nodes per cache line
    std::int32_t feature;
    std::int32_t next_left;
    double threshold;
  };
  /// Local. isolation_depth_limit with this forest's max_depth.
  int depth_limit(Index sample_size) const;
  void build_walk_layout();

  ParamSet params_;
  Index n_features_ = 0;
  ColumnScaling scaling_;  ///< applied before the trees (the identity unless standardize)
  Index sample_size_ = 0;  ///< effective: min(sample_size, rows)
  double normaliser_ = 1;  ///< c(sample_size_) * n_trees
  // The model: all trees' nodes as flat arrays (see IsolationTree), tree t at
  // [tree_offsets_[t], tree_offsets_[t + 1]).
  std::vector<std::int32_t> feature_;
  std::vector<std::int32_t> left_;
  std::vector<double> value_;
  std::vector<Index> tree_offsets_{0};
  // Derived for scoring.
  std::vector<WalkNode> walk_;
  std::vector<double> leaf_value_;  ///< path length at leaves, 0 elsewhere
  std::vector<int> tree_depth_;
};

}  // namespace hpcad
