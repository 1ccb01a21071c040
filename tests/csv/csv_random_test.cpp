// Random CSV files generated from known values (seeded): random doubles written with 17
// significant digits, random quoting, spaces, CRLF, blank lines and a text column full of
// delimiters, quotes and newlines. Read under random and balanced splits; the values must
// come back bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "csv_test_util.hpp"

namespace hpcad {
namespace {

using csv_test::bitwise_equal;

struct Generated {
  std::string text;
  std::vector<double> values;  // selected features (all numeric columns), row-major
  std::vector<double> labels;
  int n_features = 0;
};

double random_value(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: {  // any finite double, by its bits
      double v;
      do {
        v = std::bit_cast<double>(static_cast<std::uint64_t>(rng()));
      } while (!std::isfinite(v));
      return v;
    }
    case 1:
      return static_cast<double>(static_cast<int>(rng() % 2001) - 1000);
    case 2:
      return std::uniform_real_distribution<double>(-1, 1)(rng);
    case 3:
      return std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng),
                        static_cast<int>(rng() % 2000) - 1000);
    case 4:
      return std::numeric_limits<double>::quiet_NaN();  // written as an empty field
    default:
      return std::normal_distribution<double>(0, 1e6)(rng);
  }
}

std::string random_text(std::mt19937_64& rng, char delimiter) {
  static const std::string alphabet = "ab\"\n\r ,;\t|xyz";
  std::string s;
  const int n = static_cast<int>(rng() % 8);
  for (int i = 0; i < n; ++i) {
    char c = alphabet[rng() % alphabet.size()];
    if (c == '\r') {
      s += "\r\n";
      continue;
    }
    s += c;
  }
  s += delimiter;  // always needs quoting
  return s;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Generated generate(std::uint64_t seed, int rows, char delimiter) {
  std::mt19937_64 rng(seed);
  Generated g;
  g.n_features = 1 + static_cast<int>(rng() % 5);
  const int text_col = static_cast<int>(rng() % (g.n_features + 1));  // position of the text
  const bool crlf_file = rng() % 2 == 0;
  auto eol = [&] { return (crlf_file ? rng() % 8 != 0 : rng() % 8 == 0) ? "\r\n" : "\n"; };
  if (rng() % 4 == 0) g.text += "\xEF\xBB\xBF";
  // Header: features f0.., a text column, the label (some names quoted).
  std::vector<std::string> names;
  for (int j = 0; j < g.n_features; ++j) names.push_back("f" + std::to_string(j));
  names.insert(names.begin() + text_col, "text, with \"quotes\"");
  names.push_back("label");
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (j) g.text += delimiter;
    const bool must_quote = j == static_cast<std::size_t>(text_col);
    g.text += must_quote || rng() % 2 ? quote(names[j]) : names[j];
  }
  g.text += eol();
  char buf[64];
  for (int r = 0; r < rows; ++r) {
    if (rng() % 16 == 0) g.text += eol();  // blank line
    std::vector<std::string> fields;
    for (int j = 0; j < g.n_features; ++j) {
      const double v = random_value(rng);
      g.values.push_back(v);
      std::string f;
      if (!std::isnan(v)) {
        std::snprintf(buf, sizeof buf, "%.17g", v);
        f = buf;
      }
      if (rng() % 8 == 0) f = " " + f + "  ";
      if (rng() % 4 == 0) f = quote(f);
      fields.push_back(f);
    }
    fields.insert(fields.begin() + text_col, rng() % 3 ? quote(random_text(rng, delimiter)) : "t");
    const double label = static_cast<double>(rng() % 2);
    g.labels.push_back(label);
    fields.push_back(rng() % 5 == 0 ? quote(label ? "1" : "0") : (label ? "1" : "0"));
    for (std::size_t j = 0; j < fields.size(); ++j) {
      if (j) g.text += delimiter;
      g.text += fields[j];
    }
    if (r + 1 < rows || rng() % 2) g.text += eol();  // maybe no final newline
  }
  return g;
}

TEST(CsvRandom, GeneratedFilesRoundTripUnderRandomSplits) {
  const char delimiters[] = {',', ';', '\t', '|'};
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const char delimiter = delimiters[seed % 4];
    const int rows = static_cast<int>(seed * 37 % 400);
    const Generated g = generate(seed, rows, delimiter);
    const CsvFile file = CsvFile::from_bytes("random.csv", g.text, delimiter);
    std::vector<std::string> features;
    for (int j = 0; j < g.n_features; ++j)
      features.push_back(std::string("f").append(std::to_string(j)));
    const CsvColumns columns = file.select_columns(features, "label");
    std::mt19937_64 rng(seed * 1000003);
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<Index> cuts;
      if (trial < 8) {
        cuts = csv_test::balanced_cuts(file, trial == 7 ? rows + 10 : trial + 1);
      } else {
        const int parts = 1 + static_cast<int>(rng() % 12);
        std::uniform_int_distribution<Index> pos(file.data_begin(), file.data_end());
        cuts = {file.data_begin(), file.data_end()};
        for (int p = 1; p < parts; ++p) cuts.push_back(pos(rng));
        std::sort(cuts.begin(), cuts.end());
      }
      const auto got = csv_test::read_split(file, columns, cuts, false);
      ASSERT_TRUE(bitwise_equal(got.values, g.values)) << "seed " << seed << " trial " << trial;
      ASSERT_TRUE(bitwise_equal(got.labels, g.labels)) << "seed " << seed << " trial " << trial;
      ASSERT_EQ(got.rows, rows);
    }
  }
}

}  // namespace
}  // namespace hpcad
