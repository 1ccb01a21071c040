// HBOS and the extended isolation forest as units: what a fit stores, and that crafted
// model states are rejected (end-to-end values against numpy are in test_detectors.py).
#include <gtest/gtest.h>

#include <cmath>

#include "../support/detector_testing.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/detectors/detector.hpp"

namespace hpcad {
namespace {

using testing_support::fit_slab;
using testing_support::score_slab;

RowSlab gaussian_slab(Index rows, Index d) {
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  RandomStream rng(11, "test.data", 0);
  for (Index i = 0; i < rows * d; ++i) slab.values.push_back(rng.normal());
  return slab;
}

std::unique_ptr<Detector> fitted(const std::string& type, const ParamSet& params,
                                 const RowSlab& slab) {
  auto detector = make_detector(type, params);
  SerialComm comm;
  fit_slab(*detector, slab, comm);
  return detector;
}

ParamSet defaults(const std::string& type) { return ParamSet(find_detector(type).params); }

void expect_rejected(const std::string& type, const ParamSet& params, Index d,
                     const ModelState& state, const char* why) {
  auto detector = make_detector(type, params);
  EXPECT_THROW(detector->load_state(d, state), DataError) << why;
}

TEST(Hbos, ConstantColumnIsWidenedAsNumpyAndCountsSumToTheRows) {
  RowSlab slab = gaussian_slab(200, 2);
  for (Index i = 0; i < 200; ++i) slab.values[i * 2 + 1] = 3.0;  // column 1 constant
  const auto hbos = fitted("hbos", defaults("hbos"), slab);
  const ModelState state = hbos->save_state();
  const auto& edges = state.real("edges");
  ASSERT_EQ(edges.size(), 22u);
  EXPECT_EQ(edges[11], 2.5);  // numpy's histogram widens [3, 3] to [2.5, 3.5]
  EXPECT_EQ(edges[21], 3.5);
  // density x width summed over a column's bins is 1 (every row counted once).
  for (int j = 0; j < 2; ++j) {
    double mass = 0;
    for (int b = 0; b < 10; ++b)
      mass += state.real("density")[j * 10 + b] * (edges[j * 11 + b + 1] - edges[j * 11 + b]);
    EXPECT_NEAR(mass, 1.0, 1e-12) << j;
  }
}

TEST(Hbos, RejectsCraftedStates) {
  const RowSlab slab = gaussian_slab(100, 3);
  const ModelState good = fitted("hbos", defaults("hbos"), slab)->save_state();
  ModelState unsorted = good;
  std::swap(unsorted.reals["edges"][1], unsorted.reals["edges"][2]);
  expect_rejected("hbos", defaults("hbos"), 3, unsorted, "edges not increasing");
  ModelState negative = good;
  negative.reals["density"][4] = -1;
  expect_rejected("hbos", defaults("hbos"), 3, negative, "negative density");
  ModelState offsets = good;
  offsets.integers["edge_offsets"][1] = 40;
  expect_rejected("hbos", defaults("hbos"), 3, offsets, "offsets past the edges");
  ModelState short_density = good;
  short_density.reals["density"].pop_back();
  expect_rejected("hbos", defaults("hbos"), 3, short_density, "density size");
  ModelState nan = good;
  nan.reals["edges"][0] = NAN;
  expect_rejected("hbos", defaults("hbos"), 3, nan, "non-finite edge");
  auto loaded = make_detector("hbos", defaults("hbos"));
  loaded->load_state(3, good);
  EXPECT_EQ(score_slab(*loaded, slab), score_slab(*fitted("hbos", defaults("hbos"), slab), slab));
}

ParamSet eif_params(std::int64_t level) {
  ParamSet params = defaults("eif");
  params.set("n_trees", std::int64_t{10});
  params.set("sample_size", std::int64_t{64});
  params.set("extension_level", level);
  return params;
}

/// Non-zero coordinates of each internal node's normal.
std::vector<Index> nonzero_per_split(const ModelState& state, Index d) {
  std::vector<Index> counts;
  const auto& left = state.integer("node_left");
  for (std::size_t i = 0; i < left.size(); ++i)
    if (left[i] >= 0) {
      Index nonzero = 0;
      for (Index j = 0; j < d; ++j) nonzero += state.real("node_normal")[i * d + j] != 0;
      counts.push_back(nonzero);
    }
  return counts;
}

TEST(ExtendedIsolationForest, ExtensionLevelSetsTheNonZeroCoordinatesOfEverySplit) {
  const RowSlab slab = gaussian_slab(300, 4);
  for (std::int64_t level : {0, 1, 3}) {
    const auto forest = fitted("eif", eif_params(level), slab);
    const std::vector<Index> counts = nonzero_per_split(forest->save_state(), 4);
    ASSERT_FALSE(counts.empty());
    for (const Index c : counts) EXPECT_EQ(c, level + 1) << level;
    for (const double s : score_slab(*forest, slab)) {
      EXPECT_GT(s, 0.0);
      EXPECT_LT(s, 1.0);
    }
  }
  // -1 is fully extended: d - 1.
  for (const Index c : nonzero_per_split(fitted("eif", eif_params(-1), slab)->save_state(), 4))
    EXPECT_EQ(c, 4);
}

TEST(ExtendedIsolationForest, ExtensionLevelAboveTheFeaturesIsAConfigError) {
  auto forest = make_detector("eif", eif_params(4));
  SerialComm comm;
  EXPECT_THROW(fit_slab(*forest, gaussian_slab(50, 4), comm), ConfigError);
}

TEST(ExtendedIsolationForest, RejectsCraftedStates) {
  const RowSlab slab = gaussian_slab(200, 3);
  const ModelState good = fitted("eif", eif_params(0), slab)->save_state();
  ModelState dense = good;  // a normal with more non-zeros than extension_level 0 allows
  dense.reals["node_normal"][0] = dense.reals["node_normal"][1] = dense.reals["node_normal"][2] = 1;
  expect_rejected("eif", eif_params(0), 3, dense, "normal beyond the extension level");
  ModelState loop = good;
  loop.integers["node_left"][0] = 0;
  expect_rejected("eif", eif_params(0), 3, loop, "self-loop");
  ModelState nan = good;
  nan.reals["node_normal"][0] = NAN;
  expect_rejected("eif", eif_params(0), 3, nan, "non-finite normal");
  ModelState short_normal = good;
  short_normal.reals["node_normal"].pop_back();
  expect_rejected("eif", eif_params(0), 3, short_normal, "normal size");
  ModelState offsets = good;
  offsets.integers["tree_offsets"].pop_back();
  expect_rejected("eif", eif_params(0), 3, offsets, "tree count");
  auto loaded = make_detector("eif", eif_params(0));
  loaded->load_state(3, good);
  EXPECT_EQ(score_slab(*loaded, slab), score_slab(*fitted("eif", eif_params(0), slab), slab));
}

}  // namespace
}  // namespace hpcad
