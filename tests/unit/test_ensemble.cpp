// The ensemble detector in one process: members score exactly as the standalone detectors,
// normalisation against references computed here from sorted training scores, the three
// combinations, member names and parameter errors, and model state validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../support/detector_testing.hpp"
#include "../support/ensemble_params.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/detectors/ensemble.hpp"

namespace hpcad {
namespace {

using testing_support::block_of;
using testing_support::ensemble_params;
using testing_support::fit_slab;
using testing_support::gaussian_slab;
using testing_support::score_slab;

/// The member's own parameters as the ensemble's tables hold them.
ParamSet member_params(const ParamSet& ensemble, std::size_t member) {
  const ParamSet& table = ensemble.tables("members")[member];
  const DetectorInfo& info = find_detector(table.string(kTableTypeKey));
  ParamSet params(info.params);
  for (const ParamSpec& spec : info.params) params.set(spec.name, table.values().at(spec.name));
  return params;
}

/// Raw member scores and combined scores of every row of `slab`.
struct PartScores {
  std::vector<std::vector<double>> parts;
  std::vector<double> combined;
};

PartScores score_parts(const Detector& detector, const RowSlab& slab) {
  PartScores scores;
  const auto n = static_cast<std::size_t>(slab.n_rows());
  scores.parts.assign(detector.part_names().size(), std::vector<double>(n));
  scores.combined.resize(n);
  const std::vector<std::span<double>> parts(scores.parts.begin(), scores.parts.end());
  detector.score_parts(block_of(slab), scores.combined, parts);
  return scores;
}

// The ensemble's own seed and standardize: seed >= 0 replaces the member's seed, -1 keeps it;
// standardize hands the members rows scaled by the global mean and standard deviation, so an
// unstandardised iforest member scores exactly as a standalone iforest with standardize on.
TEST(Ensemble, SeedReseedsMembersAndStandardizeScalesTheirRows) {
  RowSlab slab = gaussian_slab(400, 3, 2);
  for (Index i = 0; i < 400; ++i) slab.values[i * 3 + 1] = 500 + 20 * slab.values[i * 3 + 1];
  SerialComm serial;
  for (const std::int64_t seed : {std::int64_t{-1}, std::int64_t{7}})
    for (const bool standardize : {false, true}) {
      ParamSet params = ensemble_params({"iforest"});
      params.set("seed", seed);
      params.set("standardize", standardize);
      Ensemble ensemble(params);
      fit_slab(ensemble, slab, serial, 64);
      ParamSet alone_params = member_params(params, 0);
      ASSERT_EQ(alone_params.integer("seed"), 42);  // the member's own
      ASSERT_FALSE(alone_params.boolean("standardize"));
      if (seed >= 0) alone_params.set("seed", seed);
      alone_params.set("standardize", standardize);
      const auto alone = make_detector("iforest", alone_params);
      fit_slab(*alone, slab, serial, 1000);
      EXPECT_EQ(score_parts(ensemble, slab).parts[0], score_slab(*alone, slab))
          << "seed " << seed << ", standardize " << standardize;
      // The member's split thresholds are in the units it saw: column 1 is centred at 500.
      const ModelState state = ensemble.save_state();
      const ModelState& member = state.child("members").child("iforest");
      double largest = -INFINITY;
      for (std::size_t k = 0; k < member.real("node_value").size(); ++k)
        if (member.integer("node_feature")[k] >= 0)
          largest = std::max(largest, member.real("node_value")[k]);
      if (standardize)
        EXPECT_LT(largest, 10);
      else
        EXPECT_GT(largest, 400);
      EXPECT_NEAR(state.child("standardize").real("mean")[1], standardize ? 500 : 0, 5);
    }
}

TEST(Ensemble, MemberScoresAreTheStandaloneDetectorsScores) {
  const RowSlab slab = gaussian_slab(600, 4, 1);
  SerialComm serial;
  const ParamSet params = ensemble_params({"iforest", "pca", "kmeans", "mahalanobis"});
  Ensemble ensemble(params);
  fit_slab(ensemble, slab, serial, 97);
  const PartScores scores = score_parts(ensemble, slab);
  EXPECT_EQ(score_slab(ensemble, slab), scores.combined);
  for (std::size_t m = 0; m < 4; ++m) {
    const std::string type = params.tables("members")[m].string(kTableTypeKey);
    const auto alone = make_detector(type, member_params(params, m));
    fit_slab(*alone, slab, serial, 1000);
    EXPECT_EQ(scores.parts[m], score_slab(*alone, slab)) << type;
  }
}

// With 1001 training rows the quantile table's knots are the sorted scores themselves, so a
// training row's normalised score is its rank / 1000 (distinct scores).
TEST(Ensemble, RankNormalisationIsTheEmpiricalCdfOfTheTrainingScores) {
  const RowSlab slab = gaussian_slab(1001, 3, 2);
  SerialComm serial;
  Ensemble ensemble(ensemble_params({"mahalanobis"}));
  fit_slab(ensemble, slab, serial);
  const PartScores scores = score_parts(ensemble, slab);
  std::vector<double> sorted = scores.parts[0];
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto rank =
        std::lower_bound(sorted.begin(), sorted.end(), scores.parts[0][i]) - sorted.begin();
    EXPECT_NEAR(scores.combined[i], static_cast<double>(rank) / 1000, 1e-12) << i;
  }
  // New rows: 0 below the smallest training score, 1 above the largest, linear between.
  RowSlab far = slab;
  far.values.assign(far.values.size(), 1e3);
  EXPECT_EQ(score_slab(ensemble, far), std::vector<double>(far.values.size() / 3, 1.0));
}

TEST(Ensemble, RobustZIsDistanceFromTheMedianInScaledMads) {
  const RowSlab slab = gaussian_slab(501, 3, 3);
  SerialComm serial;
  Ensemble ensemble(ensemble_params({"pca"}, "robust_z"));
  fit_slab(ensemble, slab, serial, 64);
  const PartScores scores = score_parts(ensemble, slab);
  std::vector<double> sorted = scores.parts[0];
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[250];
  std::vector<double> deviations;
  for (double s : sorted) deviations.push_back(std::abs(s - median));
  std::sort(deviations.begin(), deviations.end());
  const double scale = 1.4826 * deviations[250];
  for (std::size_t i = 0; i < sorted.size(); ++i)
    EXPECT_NEAR(scores.combined[i], (scores.parts[0][i] - median) / scale, 1e-12) << i;
}

// Every combination of three members against the single-member ensembles' scores (the same
// member and normalisation, so the same normalised member scores).
TEST(Ensemble, MeanMaxAndWeightedMeanCombineTheNormalisedScores) {
  const RowSlab slab = gaussian_slab(400, 3, 4);
  SerialComm serial;
  const std::vector<std::string> types = {"iforest", "pca", "kmeans"};
  std::vector<std::vector<double>> alone;
  for (const std::string& type : types) {
    Ensemble single(ensemble_params({type}, "robust_z"));
    fit_slab(single, slab, serial);
    alone.push_back(score_slab(single, slab));
  }
  const std::vector<double> weights = {0.5, 2.0, 1.5};
  for (const std::string combine : {"mean", "max", "weighted_mean"}) {
    ParamSet params = ensemble_params(types, "robust_z", combine);
    std::vector<ParamSet> members = params.tables("members");
    for (std::size_t m = 0; m < 3; ++m) members[m].set("weight", weights[m]);
    params.set("members", members);
    Ensemble ensemble(params);
    fit_slab(ensemble, slab, serial);
    const std::vector<double> combined = score_slab(ensemble, slab);
    for (std::size_t i = 0; i < combined.size(); ++i) {
      const double a = alone[0][i], b = alone[1][i], c = alone[2][i];
      const double expected = combine == std::string("max")    ? std::max({a, b, c})
                              : combine == std::string("mean") ? (a + b + c) / 3
                                                               : (0.5 * a + 2 * b + 1.5 * c) / 4;
      EXPECT_DOUBLE_EQ(combined[i], expected) << combine << " row " << i;
    }
  }
}

TEST(Ensemble, DefaultNamesAreTheTypesMadeUnique) {
  ParamSet params = ensemble_params({"kmeans", "pca", "kmeans", "kmeans"});
  std::vector<ParamSet> members = params.tables("members");
  members[3].set("name", std::string("kmeans_2"));  // taken first by the explicit name
  params.set("members", members);
  EXPECT_EQ(Ensemble(params).part_names(),
            (std::vector<std::string>{"kmeans", "pca", "kmeans_3", "kmeans_2"}));
}

void expect_config_error(const ParamSet& params, const std::string& expected) {
  try {
    Ensemble ensemble(params);
    ADD_FAILURE() << "no error; expected " << expected;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(Ensemble, MemberListErrors) {
  expect_config_error(ensemble_params({}),
                      "detector.members: an ensemble needs at least one member");
  ParamSet params = ensemble_params({"pca", "kmeans"});
  std::vector<ParamSet> members = params.tables("members");
  members[0].set("name", std::string("a"));
  members[1].set("name", std::string("a"));
  params.set("members", members);
  expect_config_error(params, "detector.members[1].name = \"a\": another member has this name");
  members[1].set("name", std::string("x/y"));
  params.set("members", members);
  expect_config_error(params, "detector.members[1].name = \"x/y\": must be 1 to 64 letters");
  members[1].set("name", std::string("b"));
  for (ParamSet& m : members) m.set("weight", 0.0);
  params.set("members", members);
  params.set("combine", std::string("weighted_mean"));
  expect_config_error(params, "the weights must have a positive, finite sum");
}

TEST(Ensemble, MemberParametersAreCheckedAgainstTheMembersDetector) {
  const ParamSpec& list = *find_spec(find_detector("ensemble").params, "members");
  ParamSet kmeans = ensemble_params({"pca", "kmeans"}).tables("members")[1];
  kmeans.set("n_clusters", std::int64_t{0});
  ParamSet pca = ensemble_params({"pca"}).tables("members")[0];
  EXPECT_EQ(list.check(std::vector<ParamSet>{pca, kmeans}),
            "element 1 (kmeans): n_clusters: must be at least 1");
  pca.set("n_clusters", std::int64_t{3});  // a kmeans key on a pca member
  EXPECT_EQ(list.check(std::vector<ParamSet>{pca}), "element 0 (pca): n_clusters: unknown key");
  ParamSet nested = ensemble_params({"pca"}).tables("members")[0];
  nested.set(kTableTypeKey, std::string("ensemble"));
  EXPECT_NE(list.check(std::vector<ParamSet>{nested})
                .find("element 0 (ensemble): type = \"ensemble\": must be one of \"iforest\""),
            std::string::npos);
}

TEST(Ensemble, StateRoundTripsAndIsValidatedOnLoad) {
  const RowSlab slab = gaussian_slab(300, 3, 5);
  SerialComm serial;
  for (const std::string normalization : {"rank", "robust_z"}) {
    const ParamSet params = ensemble_params({"pca", "kmeans"}, normalization);
    Ensemble fitted(params);
    fit_slab(fitted, slab, serial);
    const ModelState state = fitted.save_state();
    Ensemble loaded(params);
    loaded.load_state(3, state);
    EXPECT_EQ(loaded.save_state(), state);
    EXPECT_EQ(score_slab(loaded, slab), score_slab(fitted, slab));

    ModelState missing = state;
    missing.children["members"].children.erase("kmeans");
    EXPECT_THROW(Ensemble(params).load_state(3, missing), DataError);
    ModelState bad_member = state;
    bad_member.children["members"].children["pca"].reals["mean"].pop_back();
    try {
      Ensemble(params).load_state(3, bad_member);
      ADD_FAILURE() << "a short pca mean was accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("detector.members[0] (pca): "), std::string::npos)
          << e.what();
    }
    ModelState bad_stats = state;
    std::vector<double>& stats = bad_stats.reals[normalization == "rank" ? "quantiles" : "scale"];
    std::reverse(stats.begin(), stats.end());
    stats.front() = normalization == "rank" ? stats.front() : -1.0;
    EXPECT_THROW(Ensemble(params).load_state(3, bad_stats), DataError) << normalization;
  }
}

}  // namespace
}  // namespace hpcad
