// "Same seed, same model and scores for any rank count", as millisecond tests: N ranks as
// threads (ThreadComm), N = 1..16, against the one-process fit, bit for bit. Every rank
// holds a contiguous share of the rows (partition_rows), as in a job.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "../support/detector_testing.hpp"
#include "../support/ensemble_params.hpp"
#include "../support/forest_params.hpp"
#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/model/model.hpp"

namespace hpcad {
namespace {

using testing_support::ensemble_params;
using testing_support::forest_params;
using testing_support::rank_share;

/// Rows with NaNs and a wide range of magnitudes, so plain double sums would depend on the
/// order in which ranks add them.
RowSlab table(Index rows, Index d) {
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  RandomStream rng(3, "test.data", 0);
  for (Index i = 0; i < rows * d; ++i) {
    const double x = rng.normal() * std::pow(10.0, static_cast<double>(i % d) * 4 - 8);
    slab.values.push_back(i % 13 == 5 ? NAN : x);
  }
  return slab;
}

/// What a fit produced on one rank: every transform's and the detector's state, and the
/// scores of this rank's rows.
struct Fitted {
  std::vector<ModelState> states;
  std::vector<double> scores;
};

/// The detectors under test, with small settings.
std::unique_ptr<Detector> detector_of(const std::string& type) {
  if (type == "iforest") return make_detector(type, forest_params(25, 64, 9));
  if (type == "kmeans" || type == "kmeans||") {
    ParamSet params(find_detector("kmeans").params);
    params.set("n_clusters", std::int64_t{3});
    params.set("relative", true);
    if (type == "kmeans||") params.set("init", std::string("k-means||"));
    return make_detector("kmeans", params);
  }
  if (type == "hbos_quantile") {
    ParamSet params(find_detector("hbos").params);
    params.set("bins", std::string("quantile"));
    return make_detector("hbos", params);
  }
  if (type == "eif") {
    ParamSet params(find_detector(type).params);
    params.set("n_trees", std::int64_t{25});
    params.set("sample_size", std::int64_t{64});
    return make_detector(type, params);
  }
  if (type.starts_with("knn") || type.starts_with("lof")) {
    // "knn": 300 of the rows as reference set, mean distance; "lof": all rows; "-exact": the
    // ring of ranks. k = 2 so that the three-row table has enough neighbours.
    const std::string name = type.substr(0, 3);
    ParamSet params(find_detector(name).params);
    params.set("n_neighbors", std::int64_t{2});
    if (type.ends_with("-exact")) params.set("mode", std::string("exact"));
    if (type == "knn") {
      params.set("sample_size", std::int64_t{300});
      params.set("method", std::string("mean"));
    }
    return make_detector(name, params);
  }
  if (type == "ocsvm") {
    ParamSet params(find_detector(type).params);
    params.set("n_components", std::int64_t{20});
    params.set("epochs", std::int64_t{4});
    params.set("batch_size", std::int64_t{50});
    return make_detector(type, params);
  }
  if (type == "autoencoder") {
    ParamSet params(find_detector(type).params);
    params.set("hidden", std::vector<std::int64_t>{4, 2, 4});
    params.set("epochs", std::int64_t{4});
    params.set("batch_size", std::int64_t{50});
    params.set("validation_fraction", 0.2);
    return make_detector(type, params);
  }
  if (type == "ensemble") return make_detector(type, ensemble_params({"iforest", "pca", "kmeans"}));
  if (type == "ensemble_exact") {  // a member scored collectively (the ring of ranks)
    ParamSet params = ensemble_params({"pca", "lof"});
    std::vector<ParamSet> members = params.tables("members");
    members[1].set("n_neighbors", std::int64_t{2});
    members[1].set("mode", std::string("exact"));
    params.set("members", members);
    return make_detector("ensemble", params);
  }
  if (type == "ensemble_robust_z")
    return make_detector("ensemble", ensemble_params({"kmeans", "mahalanobis"}, "robust_z", "max"));
  return make_detector(type, ParamSet(find_detector(type).params));
}

Fitted fit_model(Comm& comm, const RowSlab& slab, Index block_rows, const std::string& type) {
  Model model;
  model.transforms.push_back(make_transform("impute", ParamSet(Impute::param_specs())));
  model.detector = detector_of(type);
  const auto source = make_memory_source(comm, slab, block_rows);
  const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
  FitContext context{comm, quiet};
  model.fit(context, *source, "table");
  Fitted fitted;
  fitted.states = {model.transforms[0]->save_state(), model.detector->save_state()};
  const auto features = model.features(*source, "table");
  fitted.scores.resize(static_cast<std::size_t>(slab.n_rows()));
  // Block by block through score(), or the whole input at once for the exact neighbours.
  model.detector->score_collective(comm, *features, fitted.scores);
  return fitted;
}

class RankInvariance : public testing::TestWithParam<std::string> {};

TEST_P(RankInvariance, ImputeAndDetectorAreBitwiseIdenticalForOneToSixteenThreadRanks) {
  const RowSlab whole = table(997, 5);
  SerialComm serial;
  const Fitted reference = fit_model(serial, whole, 1000, GetParam());
  for (int ranks : {1, 2, 3, 4, 5, 7, 8, 16}) {
    std::mutex mutex;
    std::vector<double> scores(static_cast<std::size_t>(whole.global_rows));
    run_on_threads(ranks, [&](Comm& comm) {
      const RowSlab mine = rank_share(whole, ranks, comm.rank());
      const Fitted fitted = fit_model(comm, mine, 13 + comm.rank(), GetParam());  // uneven blocks
      std::lock_guard lock(mutex);
      EXPECT_EQ(fitted.states, reference.states) << ranks << " ranks, rank " << comm.rank();
      std::copy(fitted.scores.begin(), fitted.scores.end(), scores.begin() + mine.global_begin);
    });
    EXPECT_EQ(scores, reference.scores) << ranks << " ranks";
  }
}

TEST_P(RankInvariance, MoreRanksThanRows) {
  const RowSlab whole = table(3, 2);
  SerialComm serial;
  const Fitted reference = fit_model(serial, whole, 2, GetParam());
  std::mutex mutex;
  std::vector<double> scores(static_cast<std::size_t>(whole.global_rows));
  run_on_threads(7, [&](Comm& comm) {
    const RowSlab mine = rank_share(whole, 7, comm.rank());
    const Fitted fitted = fit_model(comm, mine, 2, GetParam());
    std::lock_guard lock(mutex);
    EXPECT_EQ(fitted.states, reference.states);
    std::copy(fitted.scores.begin(), fitted.scores.end(), scores.begin() + mine.global_begin);
  });
  EXPECT_EQ(scores, reference.scores);
}

INSTANTIATE_TEST_SUITE_P(Detectors, RankInvariance,
                         testing::Values("iforest", "pca", "mahalanobis", "kmeans", "kmeans||",
                                         "hbos", "hbos_quantile", "eif", "knn", "lof",
                                         "knn-exact", "lof-exact", "ocsvm", "autoencoder", "ensemble",
                                         "ensemble_robust_z", "ensemble_exact"),
                         [](const auto& info) {
                           std::string name = info.param == "kmeans||" ? "kmeans_parallel"
                                                                       : info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ExactStatistics, ImputeFillsWithTheExactlyRoundedMean) {
  // Column sums that cancel: a naive running sum loses the small values entirely.
  RowSlab slab;
  slab.schema.n_features = 1;
  slab.values = {1e16, 1.0, -1e16, 1.0, NAN, 3.0};
  slab.global_rows = 6;
  run_on_threads(3, [&](Comm& comm) {
    Impute impute{ParamSet(Impute::param_specs())};
    const auto source = make_memory_source(comm, rank_share(slab, 3, comm.rank()), 1);
    const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
    FitContext context{comm, quiet};
    impute.fit(context, *source);
    EXPECT_EQ(impute.fill_values(), std::vector<double>{5.0 / 5});
  });
}

}  // namespace
}  // namespace hpcad
