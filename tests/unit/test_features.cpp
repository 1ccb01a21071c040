// [features] steps against pandas (features_reference.py), identical bits for 1..16 thread
// ranks with uneven shares (ranks without rows, windows longer than a rank's rows, groups
// spanning ranks) and any block size, and the errors of bad configurations and unsorted rows.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/data/text_key.hpp"
#include "hpcad/features/transformed_source.hpp"
#include "hpcad/pipeline/config.hpp"

namespace hpcad {
namespace {

/// A config whose [features] section has the reference's keys and `steps`.
std::string grouped_steps(const char* steps) {
  return std::string("[input]\npath = \"x.h5\"\n[features]\ngroup_by = \"g\"\n") +
         "order_by = \"t\"\nsteps = [" + steps + "]\n";
}

const std::string kSteps = grouped_steps(R"(
  { op = "log1p", columns = ["y"] },
  { op = "diff", columns = ["x"], lag = 2 },
  { op = "lag", columns = ["x"], lags = [1, 3] },
  { op = "rolling", columns = ["x", "y"], window = 5, stats = ["mean", "std", "zscore", "min", "max"] },
  { op = "ewm", columns = ["y"], alpha = 0.3 },
  { op = "rolling", columns = ["x_diff2"], window = 3, stats = ["mean"] },
  { op = "rolling", columns = ["x"], window = 40, stats = ["mean", "std", "min", "max"] },
)");

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
  Table gaps, filled;  ///< the ffill chain's input (runs of NaNs) and pandas' result
};

const Reference& reference() {
  static const Reference ref = [] {
    std::ifstream in(HPCAD_FEATURES_REFERENCE);
    Reference r;
    r.input = read_table(in);
    r.expected = read_table(in);
    r.gaps = read_table(in);
    r.filled = read_table(in);
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
std::vector<std::vector<double>> run_passes(Comm& comm, const Table& input,
                                            const std::string& text, Index block_rows,
                                            std::int64_t cache_budget, int passes,
                                            bool* cached = nullptr, Schema* schema = nullptr) {
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

/// One uncached pass of run_passes.
std::vector<double> run_steps(Comm& comm, const Table& input, const std::string& text,
                              Index block_rows, Schema* schema = nullptr) {
  return run_passes(comm, input, text, block_rows, 0, 1, nullptr, schema)[0];
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 8) == 0;
}

/// The steps of `text` over `input` in one process equal `expected` (pandas) to 1e-12
/// relative, NaN where pandas has NaN.
void expect_pandas_values(const Table& input, const std::string& text, const Table& expected) {
  SerialComm serial;
  Schema schema;
  const std::vector<double> out = run_steps(serial, input, text, 7, &schema);
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

/// The steps of `text` over `input` give the same bits for 1..16 thread ranks with uneven
/// shares and any block size as in one process (and as `want` when given).
void expect_rank_invariant(const Table& input, const std::string& text,
                           const std::vector<double>* want = nullptr) {
  SerialComm serial;
  const std::vector<double> whole = run_steps(serial, input, text, 1000);
  if (want) EXPECT_TRUE(same_bits(whole, *want)) << "one process";
  EXPECT_TRUE(same_bits(run_steps(serial, input, text, 1), whole)) << "block size 1";
  for (int ranks = 1; ranks <= 16; ++ranks) {
    std::vector<std::vector<double>> parts(ranks);
    run_on_threads(ranks, [&](Comm& comm) {
      parts[comm.rank()] = run_steps(comm, input, text, 3 + comm.rank() % 4);
    });
    std::vector<double> joined;
    for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
    EXPECT_TRUE(same_bits(joined, whole)) << ranks << " ranks";
  }
}

TEST(Features, MatchPandasOnGroupedSeriesWithNaNs) {
  expect_pandas_values(reference().input, kSteps, reference().expected);
}

TEST(Features, IdenticalBitsForAnyRankCountAndBlockSize) {
  expect_rank_invariant(reference().input, kSteps);
}

TEST(Features, CachedPassesRepeatTheFirstAndAreUsedOnlyWhenEveryRankHoldsItsRows) {
  SerialComm serial;
  const Table& input = reference().input;
  const std::vector<double> whole = run_steps(serial, input, kSteps, 1000);
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
        parts[comm.rank()] = run_passes(comm, input, kSteps, 4, bytes, 3, &is_cached);
        cached[comm.rank()] = is_cached;
      });
      for (int pass = 0; pass < 3; ++pass) {
        std::vector<double> joined;
        for (const auto& part : parts)
          joined.insert(joined.end(), part[pass].begin(), part[pass].end());
        EXPECT_TRUE(same_bits(joined, whole))
            << ranks << " ranks, budget " << budget << ", pass " << pass;
      }
      for (int r = 0; r < ranks; ++r)
        EXPECT_EQ(cached[r], budget == "all")
            << ranks << " ranks, budget " << budget << ", rank " << r;
    }
  }
}

// Groups named by text (node-10, node-13, ...) are hashes in no order: the same series, so
// the same bits as the numeric group ids, for any rank count.
TEST(Features, TextGroupKeysGiveTheSameFeaturesAsNumericOnes) {
  Table named = reference().input;
  const auto d = named.names.size();
  bool unordered = false;
  for (std::size_t k = 0; k < named.values.size(); k += d) {
    named.values[k] = key_from_text(fmt::format("node-{}", named.values[k]));  // column g
    unordered |= k > 0 && named.values[k] < named.values[k - d];
  }
  ASSERT_EQ(named.names[0], "g");
  ASSERT_TRUE(unordered) << "the hashes happen to be sorted: the test would not see the order";
  SerialComm serial;
  const std::vector<double> numeric = run_steps(serial, reference().input, kSteps, 1000);
  expect_rank_invariant(named, kSteps, &numeric);
}

// ffill feeding a window feeding ffill: the halo replays ffill over the raw rows before a
// rank, and the default limit (1000 rows) reaches back over every rank before it.
const std::string kForwardFill = grouped_steps(R"(
  { op = "impute", strategy = "ffill", columns = ["x"], limit = 2 },
  { op = "diff", columns = ["x"] },
  { op = "impute", strategy = "ffill", columns = ["y", "x_diff1"] },
)");

TEST(Features, ForwardFillMatchesPandasWithinGroups) {
  expect_pandas_values(reference().gaps, kForwardFill, reference().filled);
}

TEST(Features, ForwardFillIdenticalBitsForAnyRankCountAndBlockSize) {
  expect_rank_invariant(reference().gaps, kForwardFill);
}

TEST(Features, UnsortedRowsAreAnErrorNamingTheRow) {
  // y is not sorted: 231.97..., 240.22..., 303.62..., then 20.71... on row 3.
  const std::string text =
      "[input]\npath = \"x.h5\"\n[features]\norder_by = \"y\"\n"
      "steps = [{ op = \"diff\", columns = [\"x\"] }, { op = \"impute\" }]\n";
  SerialComm serial;
  try {
    run_steps(serial, reference().input, text, 2);
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
  EXPECT_THROW(run_on_threads(16, [&](Comm& comm) { run_steps(comm, reference().input, swapped, 5); }), PeerError);
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

// ISO 8601 keys against glibc's timegm (an independent calendar), over random instants of
// 1700..2300 written with random UTC offsets in every accepted form.
TEST(TextKeys, TimestampsAreSecondsSinceTheEpoch) {
  std::mt19937_64 random(8);
  for (int k = 0; k < 20000; ++k) {
    const auto utc = static_cast<std::time_t>(random() % (600ll * 365 * 86400)) -
                     static_cast<std::time_t>(270ll * 365 * 86400);
    const int offset = static_cast<int>(random() % 57) * 30 * 60 - 14 * 3600;  // -14h..+14h
    const std::time_t local = utc + offset;
    std::tm fields{};
    gmtime_r(&local, &fields);
    ASSERT_EQ(timegm(&fields), local);
    char text[64];
    const char* formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"};
    const int form = static_cast<int>(random() % 3);
    std::size_t n = std::strftime(text, sizeof text, formats[form], &fields);
    const int hours = std::abs(offset) / 3600, minutes = std::abs(offset) / 60 % 60;
    const char sign = offset < 0 ? '-' : '+';
    switch (random() % 4) {
      case 0:
        n += std::snprintf(text + n, sizeof text - n, "%c%02d:%02d", sign, hours, minutes);
        break;
      case 1:
        n += std::snprintf(text + n, sizeof text - n, "%c%02d%02d", sign, hours, minutes);
        break;
      default:  // UTC: "Z" or nothing
        if (offset != 0) continue;
        if (random() % 2) text[n++] = 'Z';
        text[n] = 0;
    }
    const double want = static_cast<double>(utc - (form == 2 ? fields.tm_sec : 0));
    ASSERT_EQ(key_from_text(text), want) << text;
  }
  EXPECT_EQ(key_from_text("2024-03-01"), key_from_text("2024-03-01T00:00:00Z"));
  EXPECT_EQ(key_from_text("2024-02-29T12:00:00.25Z"), key_from_text("2024-02-29T12:00:00Z") + 0.25);
}

TEST(TextKeys, NumbersStayNumbersOtherTextHashesForEquality) {
  EXPECT_EQ(key_from_text("7"), 7.0);
  EXPECT_EQ(key_from_text("-1.5e3"), -1500.0);
  EXPECT_TRUE(std::isnan(key_from_text("")));
  std::set<double> hashes;
  for (int i = 0; i < 100000; ++i) {
    const std::string name = fmt::format("node-{:05d}", i);
    const double key = key_from_text(name);
    EXPECT_TRUE(is_text_hash(key)) << name;
    EXPECT_EQ(key_from_text(std::string(name)), key);
    hashes.insert(key);
  }
  EXPECT_EQ(hashes.size(), 100000u);  // no collision among 1e5 similar names
  // Not dates: invalid calendar days and times are text.
  for (const char* text : {"2023-02-29", "2024-13-01", "2024-01-01T24:00", "2024-1-01", "node-7"})
    EXPECT_TRUE(is_text_hash(key_from_text(text))) << text;
  EXPECT_FALSE(is_text_hash(key_from_text("2024-02-29")));
}

}  // namespace
}  // namespace hpcad
