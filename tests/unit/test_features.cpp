// [features] steps against pandas (features_reference.py), identical bits for 1..16 thread
// ranks with uneven shares (ranks without rows, windows longer than a rank's rows, groups
// spanning ranks) and any block size, and the errors of bad configurations and unsorted rows.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/features/transformed_source.hpp"
#include "hpcad/pipeline/config.hpp"

namespace hpcad {
namespace {

constexpr const char* kSteps = R"(
[input]
path = "x.h5"
[features]
group_by = "g"
order_by = "t"
steps = [
  { op = "log1p", columns = ["y"] },
  { op = "diff", columns = ["x"], lag = 2 },
  { op = "lag", columns = ["x"], lags = [1, 3] },
  { op = "rolling", columns = ["x", "y"], window = 5, stats = ["mean", "std", "zscore", "min", "max"] },
  { op = "ewm", columns = ["y"], alpha = 0.3 },
  { op = "rolling", columns = ["x_diff2"], window = 3, stats = ["mean"] },
  { op = "rolling", columns = ["x"], window = 40, stats = ["mean", "std", "min", "max"] },
]
)";

struct Table {
  std::vector<std::string> names;
  std::vector<double> values;  ///< row-major
  Index rows() const { return static_cast<Index>(values.size() / names.size()); }
};

Table read_table(std::istream& in) {
  Table table;
  std::string line;
  std::getline(in, line);
  std::istringstream header(line);
  for (std::string name; header >> name;) table.names.push_back(name);
  std::getline(in, line);
  for (Index rows = std::stoll(line); rows > 0; --rows) {
    std::getline(in, line);
    std::istringstream row(line);
    for (std::string v; row >> v;) table.values.push_back(std::strtod(v.c_str(), nullptr));
  }
  return table;
}

struct Reference {
  Table input, expected;
};

const Reference& reference() {
  static const Reference ref = [] {
    std::ifstream in(HPCAD_FEATURES_REFERENCE);
    Reference r;
    r.input = read_table(in);
    r.expected = read_table(in);
    return r;
  }();
  return ref;
}

std::vector<std::unique_ptr<Transform>> configured_steps(const std::string& text) {
  const Config config = parse_config(text, "features.toml", {}, "/");
  std::vector<std::unique_ptr<Transform>> steps;
  for (const auto& step : config.feature_steps)
    steps.push_back(make_transform(step.op, step.params));
  return steps;
}

/// Rows of rank `rank` out of `ranks`: uneven, every third rank without rows.
IndexRange uneven_share(Index rows, int ranks, int rank) {
  const auto weight = [](int r) -> Index { return r % 3 == 1 ? 0 : r + 1; };
  Index total = 0, before = 0;
  for (int r = 0; r < ranks; ++r) total += weight(r);
  for (int r = 0; r < rank; ++r) before += weight(r);
  return {rows * before / total, rows * (before + weight(rank)) / total};
}

/// Fits the steps in order as Model::fit does and returns this rank's output rows of
/// `passes` passes over the features, cached with `cache_budget` bytes (`cached`: whether
/// the last pass came from the cache).
std::vector<std::vector<double>> run_passes(Comm& comm, const std::string& text, Index block_rows,
                                            std::int64_t cache_budget, int passes,
                                            bool* cached = nullptr, Schema* schema = nullptr) {
  const Table& input = reference().input;
  const IndexRange mine = uneven_share(input.rows(), comm.size(), comm.rank());
  const Index d = static_cast<Index>(input.names.size());
  RowSlab slab;
  slab.schema = {d, input.names};
  slab.global_rows = input.rows();
  slab.global_begin = mine.begin;
  slab.values.assign(input.values.begin() + mine.begin * d, input.values.begin() + mine.end * d);
  const auto source = make_memory_source(comm, slab, block_rows);
  auto steps = configured_steps(text);
  const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
  FitContext context{comm, quiet};
  std::vector<const Transform*> fitted;
  for (auto& step : steps) {
    TransformedSource step_input(*source, fitted, "test", false);
    step->fit(context, step_input);
    fitted.push_back(step.get());
  }
  TransformedSource features(*source, fitted, "test", false, cache_budget);
  if (schema) *schema = features.info().schema;
  std::vector<std::vector<double>> out(static_cast<std::size_t>(passes));
  for (auto& pass : out) {
    RowBlock block;
    features.rewind();
    while (features.next(block)) pass.insert(pass.end(), block.values.begin(), block.values.end());
  }
  if (cached) *cached = features.cached();
  return out;
}

std::vector<double> run_steps(Comm& comm, const std::string& text, Index block_rows,
                              Schema* schema = nullptr) {
  return run_passes(comm, text, block_rows, 0, 1, nullptr, schema)[0];
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 8) == 0;
}

TEST(Features, MatchPandasOnGroupedSeriesWithNaNs) {
  SerialComm serial;
  Schema schema;
  const std::vector<double> out = run_steps(serial, kSteps, 7, &schema);
  const Table& expected = reference().expected;
  ASSERT_EQ(schema.feature_names, expected.names);  // normative derived names, keys dropped
  ASSERT_EQ(out.size(), expected.values.size());
  const auto d = expected.names.size();
  int compared = 0;
  for (std::size_t k = 0; k < out.size(); ++k) {
    const double want = expected.values[k];
    const std::string where = fmt::format("row {}, {}", k / d, expected.names[k % d]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(out[k])) << where << ": " << out[k];
      continue;
    }
    EXPECT_NEAR(out[k], want, 1e-12 * std::max(std::abs(want), 1.0)) << where;
    ++compared;
  }
  EXPECT_GT(compared, static_cast<int>(out.size() * 3 / 4));
}

TEST(Features, IdenticalBitsForAnyRankCountAndBlockSize) {
  SerialComm serial;
  const std::vector<double> whole = run_steps(serial, kSteps, 1000);
  EXPECT_TRUE(same_bits(run_steps(serial, kSteps, 1), whole)) << "block size 1";
  for (int ranks = 1; ranks <= 16; ++ranks) {
    std::vector<std::vector<double>> parts(ranks);
    run_on_threads(ranks, [&](Comm& comm) {
      parts[comm.rank()] = run_steps(comm, kSteps, 3 + comm.rank() % 4);
    });
    std::vector<double> joined;
    for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
    EXPECT_TRUE(same_bits(joined, whole)) << ranks << " ranks";
  }
}

TEST(Features, CachedPassesRepeatTheFirstAndAreUsedOnlyWhenEveryRankHoldsItsRows) {
  SerialComm serial;
  const std::vector<double> whole = run_steps(serial, kSteps, 1000);
  for (const int ranks : {1, 3, 4}) {
    // 1 MiB holds any rank's rows; "one short" leaves the last rank (which has rows in
    // uneven_share) without a budget, so no rank may serve from its cache.
    for (const std::string budget : {"none", "all", "one short"}) {
      std::vector<std::vector<std::vector<double>>> parts(ranks);
      std::vector<char> cached(ranks);
      run_on_threads(ranks, [&](Comm& comm) {
        const bool short_rank = budget == "one short" && comm.rank() == comm.size() - 1;
        const std::int64_t bytes = budget == "none" || short_rank ? 0 : 1 << 20;
        bool is_cached = false;
        parts[comm.rank()] = run_passes(comm, kSteps, 4, bytes, 3, &is_cached);
        cached[comm.rank()] = is_cached;
      });
      for (int pass = 0; pass < 3; ++pass) {
        std::vector<double> joined;
        for (const auto& part : parts) joined.insert(joined.end(), part[pass].begin(), part[pass].end());
        EXPECT_TRUE(same_bits(joined, whole)) << ranks << " ranks, budget " << budget << ", pass " << pass;
      }
      for (int r = 0; r < ranks; ++r)
        EXPECT_EQ(cached[r], budget == "all") << ranks << " ranks, budget " << budget << ", rank " << r;
    }
  }
}

TEST(Features, UnsortedRowsAreAnErrorNamingTheRow) {
  // y is not sorted: 231.97..., 240.22..., 303.62..., then 20.71... on row 3.
  const std::string text =
      "[input]\npath = \"x.h5\"\n[features]\norder_by = \"y\"\n"
      "steps = [{ op = \"diff\", columns = [\"x\"] }, { op = \"impute\" }]\n";
  SerialComm serial;
  try {
    run_steps(serial, text, 2);
    ADD_FAILURE() << "no error for rows unsorted by y";
  } catch (const PeerError& e) {
    EXPECT_NE(std::string(e.what()).find("row 3: diff: order_by = 20.71"), std::string::npos)
        << e.what();
  }
  // Groups out of order where a rank's first row follows the rank before's last row: t
  // restarts with each group g.
  std::string swapped = kSteps;
  swapped.replace(swapped.find("group_by = \"g\""), 14, "group_by = \"t\"");
  swapped.replace(swapped.find("order_by = \"t\""), 14, "order_by = \"g\"");
  EXPECT_THROW(run_on_threads(16, [&](Comm& comm) { run_steps(comm, swapped, 5); }), PeerError);
}

TEST(Features, MissingColumnIsAnErrorNamingIt) {
  std::string text = kSteps;
  text.replace(text.find("columns = [\"x\"], lag = 2"), 15, "columns = [\"cpu\"]");
  SerialComm serial;
  RowSlab slab;
  slab.schema = {4, reference().input.names};
  const auto source = make_memory_source(serial, slab, 50);
  const auto steps = configured_steps(text);
  std::vector<const Transform*> all;
  for (const auto& step : steps) all.push_back(step.get());
  try {
    TransformedSource features(*source, all, "in.h5", false);
    ADD_FAILURE() << "no error for a missing column";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "in.h5: feature step 1: diff: columns 'cpu' is not a column of the input; "
                  "columns: g, t, x, y"),
              std::string::npos)
        << e.what();
  }
}

void expect_config_error(const std::string& steps, std::initializer_list<const char*> fragments) {
  const std::string text = "[input]\npath = \"x.h5\"\n[features]\nsteps = [" + steps + "]\n";
  try {
    configured_steps(text);
    ADD_FAILURE() << "no error for " << steps;
  } catch (const ConfigError& e) {
    for (const char* f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(Features, BadStepsAreErrorsNamingTheStepIndexAndOp) {
  expect_config_error(R"({ op = "diff" }, { op = "rollin" })",
                      {"features.steps[1]", "rollin", "rolling", "ewm", "log1p"});
  expect_config_error(R"({ op = "diff" }, { op = "log1p" }, { op = "rolling", window = 0 })",
                      {"features.steps[2] (rolling).window = 0", "at least 1"});
  expect_config_error(R"({ op = "rolling", stats = ["median"] })",
                      {"features.steps[0] (rolling).stats", "must be one of"});
  expect_config_error(R"({ op = "ewm", alpha = 0 })", {"features.steps[0] (ewm).alpha"});
  expect_config_error(R"({ op = "lag", lag = 2 })", {"unknown key 'features.steps[0] (lag).lag'"});
  expect_config_error(R"({ columns = ["x"] })", {"features.steps[0] must be a table with op"});
  expect_config_error(R"({ op = "diff", group_by = "x" })", {"set once for all steps"});
}

TEST(Features, NaNReachingTheDetectorNamesTheStep) {
  const Table& input = reference().input;
  SerialComm serial;
  RowSlab slab;
  slab.schema = {static_cast<Index>(input.names.size()), input.names};
  slab.global_rows = input.rows();
  slab.values = input.values;
  const auto source = make_memory_source(serial, slab, 50);
  auto steps = configured_steps(
      "[input]\npath = \"x.h5\"\n[features]\nsteps = [{ op = \"diff\", columns = [\"t\"] }]\n");
  const Log quiet(0, 1, LogLevel::kQuiet);
  FitContext context{serial, quiet};
  TransformedSource raw(*source, {}, "in.h5", false);
  steps[0]->fit(context, raw);
  TransformedSource features(*source, {steps[0].get()}, "in.h5", true);
  RowBlock block;
  try {
    features.next(block);
    ADD_FAILURE() << "no error for the NaN of the first diff";
  } catch (const PeerError& e) {
    EXPECT_NE(std::string(e.what()).find("row 0, column 't_diff1': value is nan, produced by "
                                         "feature step 0 (diff)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace hpcad
