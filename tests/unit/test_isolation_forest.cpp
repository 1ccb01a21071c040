#include <gtest/gtest.h>

#include <cmath>

#include "../support/detector_testing.hpp"
#include "../support/forest_params.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/detectors/isolation_forest.hpp"

namespace hpcad {
namespace {

using testing_support::block_of;
using testing_support::fit_slab;
using testing_support::gaussian_slab;
using testing_support::forest_params;

// Reference values from scikit-learn 1.2's sklearn.ensemble._iforest._average_path_length.
TEST(AveragePathLength, MatchesScikitLearn) {
  EXPECT_EQ(average_path_length(0), 0.0);
  EXPECT_EQ(average_path_length(1), 0.0);
  EXPECT_EQ(average_path_length(2), 1.0);
  EXPECT_NEAR(average_path_length(3), 1.207392357589623, 1e-14);
  EXPECT_NEAR(average_path_length(10), 3.748880484475504, 1e-14);
  EXPECT_NEAR(average_path_length(256), 10.244770920119917, 1e-13);
  EXPECT_NEAR(average_path_length(1000), 12.969940887100172, 1e-13);
}

// Walks the tree and checks the structural contract: children inside the tree and after
// their parent, thresholds inside the node's value range, leaf value = depth + c(size),
// and every sample row accounted for exactly once.
void check_node(const IsolationTree& tree, const std::vector<double>& x, Index d,
                std::vector<Index> rows, std::int32_t node, int depth, int max_depth,
                Index* leaf_rows) {
  ASSERT_LT(node, static_cast<std::int32_t>(tree.feature.size()));
  if (tree.feature[node] < 0) {
    EXPECT_DOUBLE_EQ(tree.value[node],
                     depth + average_path_length(static_cast<Index>(rows.size())));
    *leaf_rows += static_cast<Index>(rows.size());
    return;
  }
  EXPECT_LT(depth, max_depth);
  const std::int32_t f = tree.feature[node];
  double lo = INFINITY, hi = -INFINITY;
  std::vector<Index> left, right;
  for (Index r : rows) {
    lo = std::min(lo, x[r * d + f]);
    hi = std::max(hi, x[r * d + f]);
    (x[r * d + f] <= tree.value[node] ? left : right).push_back(r);
  }
  EXPECT_GE(tree.value[node], lo);
  EXPECT_LT(tree.value[node], hi);
  EXPECT_FALSE(left.empty());
  EXPECT_FALSE(right.empty());
  EXPECT_GT(tree.left[node], node);
  check_node(tree, x, d, left, tree.left[node], depth + 1, max_depth, leaf_rows);
  check_node(tree, x, d, right, tree.left[node] + 1, depth + 1, max_depth, leaf_rows);
}

TEST(IsolationTree, StructureAndLeafValues) {
  const RowSlab slab = gaussian_slab(256, 4, 3);
  RandomStream rng(5, "iforest.split", 0);
  const IsolationTree tree = grow_isolation_tree(slab.values, 4, 8, rng);
  std::vector<Index> rows(256);
  for (Index i = 0; i < 256; ++i) rows[i] = i;
  Index leaf_rows = 0;
  check_node(tree, slab.values, 4, rows, 0, 0, 8, &leaf_rows);
  EXPECT_EQ(leaf_rows, 256);
}

TEST(IsolationTree, ConstantFeaturesAreSkippedAndConstantDataIsALeaf) {
  // Feature 0 is constant; feature 1 varies: every split must use feature 1.
  std::vector<double> x;
  for (int i = 0; i < 64; ++i) x.insert(x.end(), {3.0, static_cast<double>(i)});
  RandomStream rng(1, "iforest.split", 0);
  const IsolationTree tree = grow_isolation_tree(x, 2, 6, rng);
  for (std::size_t i = 0; i < tree.feature.size(); ++i)
    if (tree.feature[i] >= 0) EXPECT_EQ(tree.feature[i], 1);
  std::vector<double> constant(64 * 2, 1.5);
  RandomStream rng2(1, "iforest.split", 0);
  const IsolationTree leaf = grow_isolation_tree(constant, 2, 6, rng2);
  ASSERT_EQ(leaf.feature.size(), 1u);
  EXPECT_DOUBLE_EQ(leaf.value[0], average_path_length(64));
}

TEST(IsolationForest, OutlierScoresHighestAndScoresInRange) {
  RowSlab slab = gaussian_slab(2000, 3, 11);
  slab.values[0] = slab.values[1] = slab.values[2] = 8.0;  // row 0 far from the rest
  IsolationForest forest(forest_params(100, 256, 1));
  SerialComm comm;
  fit_slab(forest, slab, comm);
  std::vector<double> scores(2000);
  forest.score(block_of(slab), scores);
  EXPECT_EQ(std::max_element(scores.begin(), scores.end()) - scores.begin(), 0);
  for (double s : scores) {
    EXPECT_GT(s, 0.0);
    EXPECT_LT(s, 1.0);
  }
  EXPECT_GT(scores[0], 0.7);  // isolated points score well above 0.5
}

TEST(IsolationForest, BlockSizeDoesNotChangeScores) {
  const RowSlab slab = gaussian_slab(1000, 5, 2);
  IsolationForest forest(forest_params(50, 128, 3));
  SerialComm comm;
  fit_slab(forest, slab, comm);
  std::vector<double> whole(1000), blocked(1000);
  forest.score(block_of(slab), whole);
  for (Index begin = 0; begin < 1000; begin += 77) {
    const Index rows = std::min<Index>(77, 1000 - begin);
    forest.score(block_of(slab, begin, rows), std::span(blocked).subspan(begin, rows));
  }
  EXPECT_EQ(whole, blocked);
}

TEST(IsolationForest, SameSeedSameModelDifferentSeedDifferentModel) {
  const RowSlab slab = gaussian_slab(500, 4, 8);
  SerialComm comm;
  IsolationForest a(forest_params(20, 64, 5)), b(forest_params(20, 64, 5)),
      c(forest_params(20, 64, 6));
  fit_slab(a, slab, comm);
  fit_slab(b, slab, comm);
  fit_slab(c, slab, comm);
  EXPECT_EQ(a.save_state(), b.save_state());
  EXPECT_NE(a.save_state(), c.save_state());
}

TEST(IsolationForest, SampleSizeCappedAtRowCount) {
  const RowSlab slab = gaussian_slab(10, 2, 4);
  IsolationForest forest(forest_params(5, 256, 1));
  SerialComm comm;
  fit_slab(forest, slab, comm);
  EXPECT_EQ(forest.save_state().integers.at("effective_sample_size")[0], 10);
}

TEST(IsolationForest, StateRoundTripGivesIdenticalScores) {
  const RowSlab slab = gaussian_slab(300, 3, 6);
  IsolationForest fitted(forest_params(10, 64, 2));
  SerialComm comm;
  fit_slab(fitted, slab, comm);
  IsolationForest loaded(forest_params(10, 64, 2));
  loaded.load_state(3, fitted.save_state());
  std::vector<double> a(300), b(300);
  fitted.score(block_of(slab), a);
  loaded.score(block_of(slab), b);
  EXPECT_EQ(a, b);
}

TEST(IsolationForest, LoadRejectsMalformedState) {
  const RowSlab slab = gaussian_slab(300, 3, 6);
  IsolationForest fitted(forest_params(4, 64, 2));
  SerialComm comm;
  fit_slab(fitted, slab, comm);
  const ModelState good = fitted.save_state();
  auto expect_rejected = [&](ModelState bad, const char* why) {
    IsolationForest f(forest_params(4, 64, 2));
    EXPECT_THROW(f.load_state(3, bad), DataError) << why;
  };
  ModelState cycle = good;
  cycle.integers["node_left"][0] = 0;  // child pointing at itself would loop forever
  expect_rejected(cycle, "self-loop");
  ModelState bad_feature = good;
  bad_feature.integers["node_feature"][0] = 3;
  expect_rejected(bad_feature, "feature out of range");
  ModelState short_values = good;
  short_values.reals["node_value"].pop_back();
  expect_rejected(short_values, "array lengths");
  ModelState missing = good;
  missing.integers.erase("tree_offsets");
  expect_rejected(missing, "missing array");
  ModelState wrong_norm = good;
  wrong_norm.reals["path_length_normaliser"][0] += 1;
  expect_rejected(wrong_norm, "normaliser");
  IsolationForest wrong_trees(forest_params(5, 64, 2));
  EXPECT_THROW(wrong_trees.load_state(3, good), DataError);
}

}  // namespace
}  // namespace hpcad
