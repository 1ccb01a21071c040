// knn and lof on rows small enough to work out by hand: distances, the self-exclusion and
// novelty semantics of the sample mode, parameter errors and untrusted model state. Parity
// with scikit-learn on real data is in tests/integration/test_detectors.py.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <string>

#include "../support/detector_testing.hpp"
#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/rng.hpp"

namespace hpcad {
namespace {

using testing_support::block_of;
using testing_support::fit_slab;
using testing_support::score_slab;

/// One feature: 0, 1, 3, 7, 8 (rows 0..4).
RowSlab line() {
  RowSlab slab;
  slab.schema.n_features = 1;
  slab.global_rows = 5;
  slab.values = {0, 1, 3, 7, 8};
  return slab;
}

std::unique_ptr<Detector> neighbors(const std::string& type, Index k, const std::string& mode,
                                    const std::string& method = "largest") {
  ParamSet params(find_detector(type).params);
  params.set("n_neighbors", k);
  params.set("mode", mode);
  params.set("standardize", false);
  if (type == "knn") params.set("method", method);
  return make_detector(type, params);
}

/// Scores of every row through the collective call (exact mode's only way).
std::vector<double> score_collectively(const Detector& detector, const RowSlab& slab) {
  SerialComm serial;
  const auto source = make_memory_source(serial, slab, 2);
  std::vector<double> scores(static_cast<std::size_t>(slab.n_rows()));
  detector.score_collective(serial, *source, scores);
  return scores;
}

TEST(Neighbors, KnnDistancesWorkedOutByHandInBothModes) {
  SerialComm serial;
  const std::vector<std::vector<double>> expected = {{1, 1, 2, 1, 1},  // k = 1
                                                     {3, 2, 3, 4, 5},  // k = 2, the 2nd distance
                                                     {2, 1.5, 2.5, 2.5, 3}};  // k = 2, mean
  for (const std::string mode : {"sample", "exact"}) {
    const auto first = neighbors("knn", 1, mode), second = neighbors("knn", 2, mode),
               mean = neighbors("knn", 2, mode, "mean");
    for (Detector* d : {first.get(), second.get(), mean.get()}) fit_slab(*d, line(), serial);
    EXPECT_EQ(score_collectively(*first, line()), expected[0]) << mode;
    EXPECT_EQ(score_collectively(*second, line()), expected[1]) << mode;
    EXPECT_EQ(score_collectively(*mean, line()), expected[2]) << mode;
  }
}

TEST(Neighbors, LofWorkedOutByHand) {
  // k = 1: k-distances 1 1 2 1 1; every row but 3 has lrd 1 / (1 + 1e-10); row 3's nearest
  // is row 1 at 2, so lrd(3) = 1 / (2 + 1e-10) and LOF(3) = (2 + 1e-10) / (1 + 1e-10).
  SerialComm serial;
  const double eps = 1e-10;
  for (const std::string mode : {"sample", "exact"}) {
    const auto lof = neighbors("lof", 1, mode);
    fit_slab(*lof, line(), serial);
    const std::vector<double> scores = score_collectively(*lof, line());
    const std::vector<double> expected = {1, 1, (2 + eps) / (1 + eps), 1, 1};
    for (std::size_t i = 0; i < expected.size(); ++i)
      EXPECT_NEAR(scores[i], expected[i], 1e-15) << mode << " row " << i;
  }
}

TEST(Neighbors, SampleModeSkipsOnlyTheRowItselfAndScoresNewRowsAsNovelties) {
  SerialComm serial;
  const auto knn = neighbors("knn", 1, "sample");
  fit_slab(*knn, line(), serial);
  RowSlab fresh;
  fresh.schema.n_features = 1;
  fresh.global_rows = 3;
  // Row 0 holds the training row 0's value (itself: skipped); row 1 holds another value at
  // the index of training row 1 (counted: 0.5 from rows 0 and 1); row 2 holds training row
  // 4's value at another index (not itself: distance 0).
  fresh.values = {0, 0.5, 8};
  EXPECT_EQ(score_slab(*knn, fresh), (std::vector<double>{1, 0.5, 0}));
}

TEST(Neighbors, TooFewRowsForTheNeighboursIsAConfigError) {
  SerialComm serial;
  for (const std::string mode : {"sample", "exact"}) {
    const auto knn = neighbors("knn", 5, mode);
    try {
      fit_slab(*knn, line(), serial);
      ADD_FAILURE() << mode << ": no error";
    } catch (const ConfigError& e) {
      EXPECT_NE(
          std::string(e.what()).find("detector.n_neighbors = 5: must be less than the 5 rows"),
          std::string::npos)
          << e.what();
    }
  }
  ParamSet params(find_detector("lof").params);
  params.set("n_neighbors", std::int64_t{3});
  params.set("sample_size", std::int64_t{3});
  const auto lof = make_detector("lof", params);
  EXPECT_THROW(fit_slab(*lof, line(), serial), ConfigError);
}

TEST(Neighbors, ExactModeRefusesBlockScoring) {
  SerialComm serial;
  const auto knn = neighbors("knn", 1, "exact");
  fit_slab(*knn, line(), serial);
  EXPECT_TRUE(knn->scores_collectively());
  std::vector<double> out(5);
  EXPECT_THROW(knn->score(block_of(line()), out), ConfigError);
}

TEST(Neighbors, ModelStateRoundTripsAndInconsistentStateIsRefused) {
  SerialComm serial;
  const auto lof = neighbors("lof", 2, "sample");
  fit_slab(*lof, line(), serial);
  const ModelState state = lof->save_state();
  const auto loaded = neighbors("lof", 2, "sample");
  loaded->load_state(1, state);
  EXPECT_EQ(loaded->save_state(), state);
  EXPECT_EQ(score_slab(*loaded, line()), score_slab(*lof, line()));

  auto refused = [&](const std::function<void(ModelState&)>& corrupt) {
    ModelState bad = state;
    corrupt(bad);
    EXPECT_THROW(neighbors("lof", 2, "sample")->load_state(1, bad), DataError);
  };
  refused([](ModelState& s) {
    std::swap(s.integers["reference_rows"][0], s.integers["reference_rows"][1]);
  });
  refused([](ModelState& s) { s.integers["reference_rows"].resize(2); });  // not more than k
  refused([](ModelState& s) { s.reals["reference"].pop_back(); });
  refused([](ModelState& s) { s.reals["lrd"][0] = -1; });
  refused([](ModelState& s) { s.reals["k_distance"][0] = NAN; });
  refused([](ModelState& s) { s.reals["scale"][0] = 0; });
  refused([](ModelState& s) { s.reals.erase("mean"); });
}

/// A source that reports `spare` bytes of working memory (as a job's memory budget would)
/// and counts its passes.
class BudgetedSource final : public RowSource {
 public:
  BudgetedSource(RowSource& input, std::int64_t spare) : input_(input), spare_(spare) {}
  const TableInfo& info() const override { return input_.info(); }
  Comm& comm() const override { return input_.comm(); }
  bool next(RowBlock& block) override { return input_.next(block); }
  void rewind() override {
    ++passes;
    input_.rewind();
  }
  void set_progress(ProgressSink* progress) override { input_.set_progress(progress); }
  std::int64_t spare_bytes() const override { return spare_; }
  int passes = 0;

 private:
  RowSource& input_;
  std::int64_t spare_;
};

/// 83 rows on a small integer grid: many equal distances and duplicated rows, so the
/// tie-breaking by global row index decides neighbour lists.
RowSlab grid() {
  RowSlab slab;
  slab.schema.n_features = 3;
  slab.global_rows = 83;
  RandomStream rng(3, "test.grid", 0);
  for (Index i = 0; i < 83 * 3; ++i) slab.values.push_back(static_cast<double>(rng.below(4)));
  return slab;
}

// Exact mode out of core: when a rank's rows do not fit its spare memory it scores them in
// query chunks against every rank's rows read block by block (passes over the source). The
// scores are bitwise those of the in-memory ring, for 1 to 7 thread ranks and chunks of 1, 2
// and 5 rows.
TEST(Neighbors, ExactModeInQueryChunksEqualsTheInMemoryRingBitwise) {
  const RowSlab whole = grid();
  for (const auto& [type, method] : {std::pair<std::string, std::string>{"knn", "largest"},
                                     {"knn", "mean"},
                                     {"lof", "largest"}}) {
    const auto detector = neighbors(type, 4, "exact", method);
    SerialComm serial;
    fit_slab(*detector, whole, serial);
    const std::vector<double> reference = score_collectively(*detector, whole);
    // A query costs its raw and standardised values, its row, its list (and lof's fetches):
    // budgets for chunks of about 1, 2 and 5 rows.
    const std::int64_t per_query = 2 * 3 * 8 + 8 + 4 * (16 + (type == "lof" ? 16 : 0));
    for (const std::int64_t chunk : {1, 2, 5})
      for (const int ranks : {1, 2, 3, 4, 7}) {
        std::mutex mutex;
        std::vector<double> scores(reference.size());
        run_on_threads(ranks, [&](Comm& comm) {
          const RowSlab mine = testing_support::rank_share(whole, ranks, comm.rank());
          const auto memory = make_memory_source(comm, mine, 3 + comm.rank());  // uneven blocks
          // lof also keeps each local row's k-distance and lrd.
          const std::int64_t lof_rows = type == "lof" ? 16 * mine.n_rows() : 0;
          BudgetedSource source(*memory, lof_rows + chunk * per_query);
          std::vector<double> out(static_cast<std::size_t>(mine.n_rows()));
          detector->score_collective(comm, source, out);
          // Two passes per chunk (its queries, then every row), three rounds for lof.
          const Index chunks = (mine.n_rows() + chunk - 1) / chunk;
          EXPECT_GE(source.passes, (type == "lof" ? 6 : 2) * (chunks - 1)) << ranks;
          std::lock_guard lock(mutex);
          std::copy(out.begin(), out.end(), scores.begin() + mine.global_begin);
        });
        EXPECT_EQ(scores, reference)
            << type << " " << method << ", chunks of " << chunk << ", " << ranks << " ranks";
      }
  }
}

}  // namespace
}  // namespace hpcad
