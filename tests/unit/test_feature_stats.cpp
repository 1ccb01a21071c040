// The global-statistics feature steps (impute, scale, drop_constant) against numpy, pandas
// and scikit-learn (tests/unit/feature_stats_reference.py, generated with the build), fitted
// on 1..16 thread ranks bit for bit like one process, and through save/load.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

#include "../support/detector_testing.hpp"
#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/features/transform.hpp"

namespace hpcad {
namespace {

using testing_support::rank_share;

const std::vector<std::string> kNames = {"wide", "ties", "constant", "tiny", "skewed"};

/// One block of the reference file: rows x cols values, row-major.
struct Matrix {
  Index rows = 0, cols = 0;
  std::vector<double> values;
};

const std::map<std::string, Matrix>& reference() {
  static const std::map<std::string, Matrix> blocks = [] {
    std::map<std::string, Matrix> parsed;
    std::ifstream in(HPCAD_FEATURE_STATS_REFERENCE);
    std::string name, value;
    Matrix m;
    while (in >> name >> m.rows >> m.cols) {
      m.values.resize(static_cast<std::size_t>(m.rows * m.cols));
      for (double& v : m.values) {
        in >> value;
        v = std::strtod(value.c_str(), nullptr);
      }
      parsed[name] = m;
    }
    return parsed;
  }();
  return blocks;
}

const Matrix& expected(const std::string& name) {
  const auto it = reference().find(name);
  if (it == reference().end()) throw std::runtime_error("no reference block " + name);
  return it->second;
}

RowSlab table() {
  const Matrix& m = expected("table");
  RowSlab slab;
  slab.schema = {m.cols, kNames};
  slab.global_rows = m.rows;
  slab.values = m.values;
  return slab;
}

ParamSet params_of(const std::string& type, const std::map<std::string, ParamValue>& values) {
  ParamSet params(find_transform(type).params);
  for (const auto& [key, value] : values) params.set(key, value);
  return params;
}

/// What one rank's fit produced: the state and the transformed rows of its share.
struct Fitted {
  ModelState state;
  Schema schema;
  std::vector<double> rows;
};

/// Collective. Fits a `type` step on this rank's `slab` (blocks of `block_rows`) and applies
/// it block by block.
Fitted fit_step(Comm& comm, const std::string& type, const ParamSet& params, const RowSlab& slab,
                Index block_rows) {
  const auto step = make_transform(type, params);
  const auto source = make_memory_source(comm, slab, block_rows);
  const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
  FitContext context{comm, quiet};
  step->fit(context, *source);
  Fitted fitted{step->save_state(), step->output_schema(slab.schema), {}};
  source->rewind();
  RowBlock block;
  std::vector<double> out;
  while (source->next(block)) {
    step->apply(block, {}, out);
    fitted.rows.insert(fitted.rows.end(), out.begin(), out.end());
  }
  return fitted;
}

/// Equal to the reference within 1e-12 relative (absolute below magnitude 1), NaN where it
/// has NaN.
void expect_close(std::span<const double> got, const Matrix& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.values.size()) << what;
  for (std::size_t k = 0; k < got.size(); ++k) {
    const double w = want.values[k];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(got[k])) << what << " value " << k;
      continue;
    }
    EXPECT_NEAR(got[k], w, 1e-12 * std::max(1.0, std::abs(w))) << what << " value " << k;
  }
}

struct Case {
  std::string type;
  std::map<std::string, ParamValue> params;
  std::string reference;  ///< block of the transformed table
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.reference; }

class FeatureStats : public testing::TestWithParam<Case> {};

TEST_P(FeatureStats, MatchesTheReferenceAndIsBitwiseIdenticalForOneToSixteenThreadRanks) {
  const Case& c = GetParam();
  const RowSlab whole = table();
  const ParamSet params = params_of(c.type, c.params);
  SerialComm serial;
  const Fitted one = fit_step(serial, c.type, params, whole, 1000);
  expect_close(one.rows, expected(c.reference), c.reference);
  for (int ranks : {1, 2, 3, 4, 5, 7, 8, 16}) {
    std::mutex mutex;
    std::vector<double> rows(one.rows.size());
    run_on_threads(ranks, [&](Comm& comm) {
      const RowSlab mine = rank_share(whole, ranks, comm.rank());
      const Fitted fitted = fit_step(comm, c.type, params, mine, 13 + comm.rank());
      std::lock_guard lock(mutex);
      EXPECT_EQ(fitted.state, one.state) << ranks << " ranks, rank " << comm.rank();
      const auto at = static_cast<std::size_t>(mine.global_begin * one.schema.n_features);
      std::copy(fitted.rows.begin(), fitted.rows.end(), rows.begin() + at);
    });
    // Bitwise, NaN included.
    EXPECT_EQ(0, std::memcmp(rows.data(), one.rows.data(), rows.size() * sizeof(double)))
        << ranks << " ranks";
  }
}

TEST_P(FeatureStats, LoadedStateTransformsNewRowsAsTheFittedOne) {
  const Case& c = GetParam();
  const RowSlab whole = table();
  const ParamSet params = params_of(c.type, c.params);
  SerialComm serial;
  const Fitted fitted = fit_step(serial, c.type, params, whole, 100);
  const auto loaded = make_transform(c.type, params);
  ModelState state = fitted.state;
  state.where = "model.h5:/transforms/0";
  loaded->load_state(whole.schema, state);
  EXPECT_EQ(loaded->save_state(), fitted.state);
  EXPECT_EQ(loaded->output_schema(whole.schema).feature_names, fitted.schema.feature_names);
  std::vector<double> out;
  loaded->apply(testing_support::block_of(whole), {}, out);
  EXPECT_EQ(0, std::memcmp(out.data(), fitted.rows.data(), out.size() * sizeof(double)));
}

INSTANTIATE_TEST_SUITE_P(
    Steps, FeatureStats,
    testing::Values(Case{"impute", {}, "impute_mean"},
                    Case{"impute", {{"strategy", std::string("median")}}, "impute_median"},
                    Case{"impute", {{"strategy", std::string("constant")}, {"value", -1.5}},
                         "impute_constant"},
                    Case{"scale", {}, "scale_standard"},
                    Case{"scale",
                         {{"columns", std::vector<std::string>{"skewed", "ties"}}},
                         "scale_standard_ties_skewed"},
                    Case{"scale", {{"method", std::string("minmax")}}, "scale_minmax"},
                    Case{"scale", {{"method", std::string("robust")}}, "scale_robust"},
                    Case{"drop_constant", {}, "drop_constant"}),
    [](const auto& info) { return info.param.reference; });

/// The fitted statistics themselves against numpy (a scale of 1 where the spread is 0).
TEST(FeatureStatsValues, ScaleStatisticsAreNumpysWithDdofZero) {
  SerialComm serial;
  const RowSlab whole = table();
  const auto standard = fit_step(serial, "scale", params_of("scale", {}), whole, 64).state;
  std::vector<double> std_or_one = expected("std").values;
  for (double& s : std_or_one) s = s > 0 ? s : 1.0;
  expect_close(standard.real("center"), expected("mean"), "mean");
  expect_close(standard.real("scale"), Matrix{1, 5, std_or_one}, "std");
  const auto minmax =
      fit_step(serial, "scale", params_of("scale", {{"method", std::string("minmax")}}), whole, 64)
          .state;
  expect_close(minmax.real("center"), expected("min"), "min");
}

TEST(FeatureStatsValues, MedianAndIqrAreNumpysQuantilesExactly) {
  SerialComm serial;
  const RowSlab whole = table();
  const auto robust =
      fit_step(serial, "scale", params_of("scale", {{"method", std::string("robust")}}), whole, 64)
          .state;
  // Exact selection: the very doubles numpy computes (the IQR is one subtraction of them).
  EXPECT_EQ(robust.real("center"), expected("median").values);
  std::vector<double> iqr_or_one = expected("iqr").values;
  for (double& s : iqr_or_one) s = s > 0 ? s : 1.0;
  EXPECT_EQ(robust.real("scale"), iqr_or_one);
  const auto median =
      fit_step(serial, "impute", params_of("impute", {{"strategy", std::string("median")}}),
               whole, 64)
          .state;
  EXPECT_EQ(median.real("fill"), expected("median").values);
}

TEST(FeatureStatsValues, DropConstantNamesTheKeptColumns) {
  SerialComm serial;
  const Fitted fitted =
      fit_step(serial, "drop_constant", params_of("drop_constant", {}), table(), 64);
  EXPECT_EQ(fitted.schema.feature_names,
            (std::vector<std::string>{"wide", "ties", "tiny", "skewed"}));
  EXPECT_EQ(fitted.state.integer("kept"), (std::vector<std::int64_t>{0, 1, 3, 4}));
}

/// `fn` throws E whose message contains every one of `parts`.
template <typename E, typename F>
void expect_error(F fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const char* part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << e.what() << " lacks " << part;
  }
}

TEST(FeatureStatsErrors, BadParametersAreRefusedWithTheirName) {
  const ParamSpec* method = find_spec(find_transform("scale").params, "method");
  ASSERT_NE(method, nullptr);
  EXPECT_EQ(method->check(std::string("zscore")),
            "must be one of \"standard\", \"robust\", \"minmax\"");
  expect_error<ConfigError>(
      [] { make_transform("impute", params_of("impute", {{"strategy", std::string("constant")}})); },
      {"impute", "constant", "value"});
  expect_error<ConfigError>([] { make_transform("impute", params_of("impute", {{"value", 0.0}})); },
                            {"impute", "value", "mean"});
  expect_error<ConfigError>([] { find_transform("standardise"); }, {"standardise", "scale"});
  SerialComm serial;
  expect_error<ConfigError>(
      [&] {
        fit_step(serial, "scale", params_of("scale", {{"columns", std::vector<std::string>{"cpu"}}}),
                 table(), 64);
      },
      {"scale", "'cpu'", "wide, ties"});
}

TEST(FeatureStatsErrors, AColumnWithoutFiniteValuesIsNamed) {
  RowSlab slab = table();
  for (Index i = 0; i < slab.n_rows(); ++i) slab.values[i * 5 + 3] = NAN;
  SerialComm serial;
  using Fit = std::tuple<const char*, const char*, const char*>;  // type, key, statistic
  for (const auto& [type, key, statistic] :
       {Fit{"impute", "strategy", "mean"}, Fit{"impute", "strategy", "median"},
        Fit{"scale", "method", "standard"}, Fit{"scale", "method", "robust"},
        Fit{"scale", "method", "minmax"}}) {
    const ParamSet params = params_of(type, {{key, std::string(statistic)}});
    expect_error<DataError>([&] { fit_step(serial, type, params, slab, 64); },
                            {type, "'tiny'", "no finite value", statistic});
  }
}

TEST(FeatureStatsErrors, DropConstantRefusesToDropEveryColumn) {
  RowSlab slab;
  slab.schema = {2, {"a", "b"}};
  slab.global_rows = 3;
  slab.values = {1, 2, 1, 2, 1, NAN};  // NaN is missing, not another value
  SerialComm serial;
  expect_error<DataError>(
      [&] { fit_step(serial, "drop_constant", params_of("drop_constant", {}), slab, 2); },
      {"drop_constant", "'a', 'b'", "nothing is left"});
}

TEST(FeatureStatsErrors, LoadedStateIsValidated) {
  const Schema schema{3, {"a", "b", "c"}};
  const auto load = [&](const std::string& type, ModelState state,
                        const std::map<std::string, ParamValue>& values = {}) {
    state.where = "m.h5:/transforms/0";
    make_transform(type, params_of(type, values))->load_state(schema, state);
  };
  ModelState scale;
  scale.reals = {{"center", {0, 0, 0}}, {"scale", {1, 0, 1}}};
  expect_error<DataError>([&] { load("scale", scale); }, {"m.h5:/transforms/0", "scale"});
  scale.reals["scale"] = {1, 1};
  expect_error<DataError>([&] { load("scale", scale); }, {"m.h5:/transforms/0", "scale"});
  ModelState fill;
  fill.reals = {{"fill", {0, NAN, 0}}};
  expect_error<DataError>([&] { load("impute", fill); }, {"m.h5:/transforms/0", "not finite"});
  fill.reals = {{"fill", {0}}};
  expect_error<DataError>([&] { load("impute", fill, {{"columns", std::vector<std::string>{"d"}}}); },
                          {"m.h5:/transforms/0", "'d'"});
  ModelState kept;
  kept.integers = {{"kept", {2, 1}}};
  expect_error<DataError>([&] { load("drop_constant", kept); }, {"m.h5:/transforms/0", "increase"});
  kept.integers = {{"kept", {0}}};
  expect_error<DataError>(
      [&] { load("drop_constant", kept, {{"columns", std::vector<std::string>{"b"}}}); },
      {"m.h5:/transforms/0", "'c'", "not selected"});
}

}  // namespace
}  // namespace hpcad
