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

// standardize on iforest and hbos (issue 7's key for every detector): the stored scaling is the
// global mean and population standard deviation (computed here in long double), and the
// model is built on scaled values (tree thresholds and bin edges near 0 for a column centred
// at 1000), while standardize = false stores the identity and keeps raw units.
TEST(Standardize, IsStoredAndAppliedByForestAndHistograms) {
  RowSlab slab = gaussian_slab(500, 2);
  for (Index i = 0; i < 500; ++i) slab.values[i * 2 + 1] = 1000 + 50 * slab.values[i * 2 + 1];
  std::vector<double> mean(2), scale(2);
  for (Index j = 0; j < 2; ++j) {
    long double sum = 0, squares = 0;
    for (Index i = 0; i < 500; ++i) sum += slab.values[i * 2 + j];
    const long double m = sum / 500;
    for (Index i = 0; i < 500; ++i)
      squares += (slab.values[i * 2 + j] - m) * (slab.values[i * 2 + j] - m);
    mean[j] = static_cast<double>(m);
    scale[j] = static_cast<double>(std::sqrt(squares / 500));
  }
  for (const std::string type : {"iforest", "hbos"}) {
    const std::string model_values = type == "iforest" ? "node_value" : "edges";
    for (const bool standardize : {true, false}) {
      ParamSet params = defaults(type);
      params.set("standardize", standardize);
      const ModelState state = fitted(type, params, slab)->save_state();
      for (Index j = 0; j < 2; ++j) {
        EXPECT_NEAR(state.real("mean")[j], standardize ? mean[j] : 0.0,
                    1e-12 * (1 + std::abs(mean[j])))
            << type;
        EXPECT_NEAR(state.real("scale")[j], standardize ? scale[j] : 1.0, 1e-12 * scale[j]) << type;
      }
      // iforest: the thresholds of split nodes (leaves hold path lengths).
      double largest = -INFINITY;
      const auto& values = state.real(model_values);
      for (std::size_t k = 0; k < values.size(); ++k)
        if (type == "hbos" || state.integer("node_feature")[k] >= 0)
          largest = std::max(largest, values[k]);
      if (standardize)
        EXPECT_LT(largest, 10) << type;
      else
        EXPECT_GT(largest, 500) << type;
    }
  }
  // Static bins follow an affine scaling: each bin holds the same rows, so its density (per
  // unit of the column) is the raw one times the column's scale.
  ParamSet on = defaults("hbos");
  on.set("standardize", true);
  const std::vector<double> scaled = fitted("hbos", on, slab)->save_state().real("density");
  const std::vector<double> raw =
      fitted("hbos", defaults("hbos"), slab)->save_state().real("density");
  ASSERT_EQ(scaled.size(), raw.size());
  const Index n_bins = defaults("hbos").integer("n_bins");
  for (std::size_t b = 0; b < raw.size(); ++b)
    EXPECT_NEAR(scaled[b], raw[b] * scale[b / n_bins], 1e-9 * scaled[b]) << "bin " << b;
}

}  // namespace
}  // namespace hpcad
