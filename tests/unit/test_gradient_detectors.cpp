// ocsvm and autoencoder: what the one-process contract promises beyond rank invariance
// (test_rank_invariance.cpp) — state round trips, untrusted state refused, parameter errors,
// concurrent scoring, determinism per seed. Accuracy against scikit-learn and numpy is checked
// in tests/integration/test_detectors.py.
#include <gtest/gtest.h>

#include <thread>

#include "../support/detector_testing.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"

namespace hpcad {
namespace {

using testing_support::fit_slab;
using testing_support::score_slab;

RowSlab gaussian_slab(Index rows, Index d) {
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  RandomStream rng(5, "test.data", 0);
  for (Index i = 0; i < rows * d; ++i) slab.values.push_back(rng.normal() * (1 + i % d));
  return slab;
}

std::unique_ptr<Detector> small(const std::string& type, std::int64_t seed = 42) {
  ParamSet params(find_detector(type).params);
  params.set("epochs", std::int64_t{3});
  params.set("seed", seed);
  if (type == "ocsvm") params.set("n_components", std::int64_t{16});
  if (type == "autoencoder") params.set("hidden", std::vector<std::int64_t>{3});
  return make_detector(type, params);
}

class GradientDetector : public testing::TestWithParam<std::string> {};

TEST_P(GradientDetector, StateRoundTripGivesIdenticalScores) {
  const RowSlab slab = gaussian_slab(300, 4);
  SerialComm comm;
  auto fitted = small(GetParam());
  fit_slab(*fitted, slab, comm, 37);
  auto loaded = small(GetParam());
  loaded->load_state(4, fitted->save_state());
  EXPECT_EQ(loaded->save_state(), fitted->save_state());
  EXPECT_EQ(score_slab(*loaded, slab), score_slab(*fitted, slab));
}

TEST_P(GradientDetector, SameSeedSameModelDifferentSeedDifferentModel) {
  const RowSlab slab = gaussian_slab(300, 4);
  SerialComm comm;
  auto a = small(GetParam(), 1), b = small(GetParam(), 1), c = small(GetParam(), 2);
  for (auto* detector : {a.get(), b.get(), c.get()}) fit_slab(*detector, slab, comm);
  EXPECT_EQ(a->save_state(), b->save_state());
  EXPECT_NE(a->save_state(), c->save_state());
}

TEST_P(GradientDetector, ConcurrentScoringGivesTheSerialScores) {
  const RowSlab slab = gaussian_slab(400, 3);
  SerialComm comm;
  auto detector = small(GetParam());
  fit_slab(*detector, slab, comm);
  const std::vector<double> serial = score_slab(*detector, slab);
  std::vector<std::vector<double>> parallel(4);
  std::vector<std::thread> threads;
  for (auto& scores : parallel) threads.emplace_back([&] { scores = score_slab(*detector, slab); });
  for (auto& t : threads) t.join();
  for (const auto& scores : parallel) EXPECT_EQ(scores, serial);
}

TEST_P(GradientDetector, LoadRefusesMissizedOrNonFiniteState) {
  const RowSlab slab = gaussian_slab(200, 4);
  SerialComm comm;
  auto fitted = small(GetParam());
  fit_slab(*fitted, slab, comm);
  const ModelState good = fitted->save_state();
  const std::string learned = GetParam() == "ocsvm" ? "coef" : "weights";
  auto refuses = [&](const ModelState& state, const std::string& what) {
    auto detector = small(GetParam());
    try {
      detector->load_state(4, state);
      ADD_FAILURE() << what << " was accepted";
    } catch (const DataError&) {
    }
  };
  {  // the state of a 4-feature model for 5 features
    auto detector = small(GetParam());
    EXPECT_THROW(detector->load_state(5, good), DataError);
  }
  ModelState state = good;
  state.reals[learned].push_back(0.0);
  refuses(state, "an extra weight");
  state = good;
  state.reals[learned][0] = NAN;
  refuses(state, "a NaN weight");
  state = good;
  state.reals["scale"][1] = 0;
  refuses(state, "a zero scale");
  state = good;
  state.reals.erase("mean");
  refuses(state, "a missing mean");
}

INSTANTIATE_TEST_SUITE_P(Detectors, GradientDetector, testing::Values("ocsvm", "autoencoder"));

TEST(GradientDetectorParams, InvalidValuesAreConfigErrors) {
  const RowSlab slab = gaussian_slab(50, 2);
  SerialComm comm;
  ParamSet ocsvm(find_detector("ocsvm").params);
  ocsvm.set("nu", 0.0);
  auto svm = make_detector("ocsvm", ocsvm);
  EXPECT_THROW(fit_slab(*svm, slab, comm), ConfigError);
  ParamSet autoencoder(find_detector("autoencoder").params);
  autoencoder.set("hidden", std::vector<std::int64_t>{});
  auto net = make_detector("autoencoder", autoencoder);
  EXPECT_THROW(fit_slab(*net, slab, comm), ConfigError);
  for (const auto& type : {"ocsvm", "autoencoder"})
    EXPECT_NE(find_spec(find_detector(type).params, "batch_size")->check(std::int64_t{0}), "");
}

// gamma = "scale" is 1 / (d var(Z)) over every standardised value: each column has mean 0 and
// variance 1, so var(Z) = 1 and gamma = 1 / d. A number is used as given.
TEST(GradientDetectorParams, GammaScaleOrANumber) {
  const RowSlab slab = gaussian_slab(300, 4);
  SerialComm comm;
  auto scaled = small("ocsvm");
  fit_slab(*scaled, slab, comm);
  EXPECT_NEAR(scaled->save_state().real_value("gamma"), 0.25, 1e-14);
  ParamSet params = scaled->params();
  params.set("gamma", 0.375);
  auto given = make_detector("ocsvm", params);
  fit_slab(*given, slab, comm);
  EXPECT_EQ(given->save_state().real_value("gamma"), 0.375);
}

}  // namespace
}  // namespace hpcad
