// Hand-made edge cases for the CSV reader, each checked whole and under every split of the
// data into 2 and 3 byte ranges (so rank boundaries fall inside quoted fields, at record
// starts, between \r and \n, ...) and into more ranges than bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "csv_test_util.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

using csv_test::bitwise_equal;
using csv_test::read_balanced;
using csv_test::read_split;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Expected {
  std::vector<double> values;
  std::vector<double> labels;
};

// Reads `bytes` whole, under every 2-split and 3-split and with more ranks than bytes;
// every read must give `expected`.
void check_all_splits(const std::string& bytes, const Expected& expected, char delimiter = ',',
                      const std::vector<std::string>& features = {},
                      const std::string& label = "label") {
  const CsvFile file = CsvFile::from_bytes("test.csv", bytes, delimiter);
  const CsvColumns columns = file.select_columns(features, label);
  const Index b = file.data_begin();
  const Index e = file.data_end();
  auto check = [&](const std::vector<Index>& cuts) {
    const csv_test::SplitResult got = read_split(file, columns, cuts, false);
    std::string where = "cuts:";
    for (Index c : cuts) where.append(" ").append(std::to_string(c));
    EXPECT_TRUE(bitwise_equal(got.values, expected.values)) << where;
    EXPECT_TRUE(bitwise_equal(got.labels, expected.labels)) << where;
    EXPECT_EQ(got.rows * static_cast<Index>(columns.feature_columns.size()),
              static_cast<Index>(expected.values.size()))
        << where;
  };
  check({b, e});
  for (Index c1 = b; c1 <= e; ++c1) {
    check({b, c1, e});
    for (Index c2 = c1; c2 <= e; ++c2) check({b, c1, c2, e});
  }
  const int many = static_cast<int>(e - b) + 5;
  const csv_test::SplitResult got = read_balanced(file, columns, many);
  EXPECT_TRUE(bitwise_equal(got.values, expected.values)) << "more ranks than bytes";
  EXPECT_TRUE(bitwise_equal(got.labels, expected.labels)) << "more ranks than bytes";
}

// The error message a whole-file read gives; every 2-split must throw the same one.
std::string error_all_splits(const std::string& bytes, char delimiter = ',',
                             const std::vector<std::string>& features = {},
                             const std::string& label = "label") {
  const CsvFile file = CsvFile::from_bytes("bad.csv", bytes, delimiter);
  const CsvColumns columns = file.select_columns(features, label);
  auto message_of = [&](const std::vector<Index>& cuts) -> std::string {
    try {
      read_split(file, columns, cuts, false);
    } catch (const DataError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string whole = message_of({file.data_begin(), file.data_end()});
  for (Index c = file.data_begin(); c <= file.data_end(); ++c) {
    EXPECT_EQ(message_of({file.data_begin(), c, file.data_end()}), whole) << "cut at " << c;
  }
  return whole;
}

TEST(CsvReader, BasicHeaderAndRows) {
  const CsvFile file = CsvFile::from_bytes("t.csv", "a,b,label\n1,2,0\n3.5,-4e-3,1\n");
  EXPECT_EQ(file.header(), (std::vector<std::string>{"a", "b", "label"}));
  EXPECT_EQ(file.data_begin(), 10);
  EXPECT_EQ(file.data_begin_line(), 2);
  check_all_splits("a,b,label\n1,2,0\n3.5,-4e-3,1\n", {{1, 2, 3.5, -4e-3}, {0, 1}});
}

TEST(CsvReader, SelectsFeaturesByNameInGivenOrder) {
  const std::string text = "x,label,y,z\n1,0,2,3\n4,1,5,6\n";
  check_all_splits(text, {{3, 1, 6, 4}, {0, 1}}, ',', {"z", "x"}, "label");
  check_all_splits(text, {{1, 0, 2, 3, 4, 1, 5, 6}, {}}, ',', {}, "");
  const CsvFile file = CsvFile::from_bytes("t.csv", text);
  const CsvColumns all = file.select_columns({}, "label");
  EXPECT_EQ(all.feature_names, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(all.label_column, 1);
}

TEST(CsvReader, QuotedFieldsWithDelimitersNewlinesAndEscapes) {
  // A text column (not selected) holding delimiters, newlines, CRLF and "" escapes; quoted
  // numbers in selected columns.
  const std::string text =
      "id,x,label\n"
      "\"a,b\nc\",1.5,0\n"
      "\"q\"\"x\",\"2\",1\n"
      "\"\"\"\",3,\"0\"\n"
      "\"multi\r\nline,\"\"x\"\"\n\",\" 4 \",1\n"
      "plain,5,0\n";
  check_all_splits(text, {{1.5, 2, 3, 4, 5}, {0, 1, 0, 1, 0}}, ',', {"x"}, "label");
}

TEST(CsvReader, HeaderNamesAreUnquotedAndUnescaped) {
  const CsvFile file =
      CsvFile::from_bytes("t.csv", "\"we\"\"ird\",\"a,b\",\"multi\nline\",plain\r\n1,2,3,4\r\n");
  EXPECT_EQ(file.header(), (std::vector<std::string>{"we\"ird", "a,b", "multi\nline", "plain"}));
  EXPECT_EQ(file.data_begin_line(), 3);
  check_all_splits("\"we\"\"ird\",\"a,b\",\"multi\nline\",plain\r\n1,2,3,4\r\n", {{1, 2, 4}, {3}},
                   ',', {"we\"ird", "a,b", "plain"}, "multi\nline");
}

TEST(CsvReader, CrlfLineEndings) {
  check_all_splits("a,label\r\n1,0\r\n2,1\r\n\"3\",0\r\n", {{1, 2, 3}, {0, 1, 0}});
  // Mixed endings, and a CRLF-terminated last record without the final LF.
  check_all_splits("a,label\r\n1,0\n2,1\r\n3,0\r", {{1, 2, 3}, {0, 1, 0}});
}

TEST(CsvReader, Utf8ByteOrderMark) {
  const std::string text =
      "\xEF\xBB\xBF"
      "a,label\n1,0\n2,1\n";
  const CsvFile file = CsvFile::from_bytes("t.csv", text);
  EXPECT_EQ(file.header(), (std::vector<std::string>{"a", "label"}));
  check_all_splits(text, {{1, 2}, {0, 1}});
}

TEST(CsvReader, EmptyFieldsAreNaN) {
  check_all_splits("a,b,c,label\n,1,,0\n2,,  ,1\n,,\"\",0\n",
                   {{kNaN, 1, kNaN, 2, kNaN, kNaN, kNaN, kNaN, kNaN}, {0, 1, 0}});
}

TEST(CsvReader, CustomDelimiters) {
  check_all_splits("a;b;label\n1,5;2;0\n\"x;y\";3;1\n", {{2, 3}, {0, 1}}, ';', {"b"}, "label");
  check_all_splits("a\tb\tlabel\n1\t2\t0\n3\t4\t1\n", {{1, 2, 3, 4}, {0, 1}}, '\t');
  check_all_splits("a|label\n1.25|0\n-2|1\n", {{1.25, -2}, {0, 1}}, '|');
  // A delimiter that can appear in numbers disables the from_chars fast path.
  check_all_splits("aey\n1e0\n2e1\n", {{1, 2}, {0, 1}}, 'e', {}, "y");
  check_all_splits("a.label\n1.0\n2.1\n-3.0\n", {{1, 2, -3}, {0, 1, 0}}, '.');
}

TEST(CsvReader, MissingTrailingNewline) {
  check_all_splits("a,label\n1,0\n2,1", {{1, 2}, {0, 1}});
  check_all_splits("a,label\n1,0\n\"2\",\"1\"", {{1, 2}, {0, 1}});
}

TEST(CsvReader, HeaderOnlyFiles) {
  for (const std::string text : {"a,label\n", "a,label", "a,label\r\n", "a,label\n\n\r\n"}) {
    const CsvFile file = CsvFile::from_bytes("t.csv", text);
    EXPECT_EQ(file.header(), (std::vector<std::string>{"a", "label"}));
    check_all_splits(text, {{}, {}});
  }
}

TEST(CsvReader, EmptyFileHasNoHeader) {
  EXPECT_THROW(CsvFile::from_bytes("t.csv", ""), DataError);
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "\xEF\xBB\xBF"), DataError);
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "\na,b\n1,2\n"), DataError);
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "\"a,b\n1,2\n"), DataError);     // unterminated
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "\"a\"x,b\n1,2\n"), DataError);  // malformed
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "a\"b\n"), DataError);  // quote in unquoted name
}

TEST(CsvReader, BlankLinesAreSkipped) {
  check_all_splits("a,label\n\n1,0\n\r\n\n2,1\n\n", {{1, 2}, {0, 1}});
}

TEST(CsvReader, NumberSyntax) {
  check_all_splits(
      "a,label\n"
      " 1.5 ,0\n"
      "\t-2\t,0\n"
      "+3,0\n"
      "nan,0\n"
      "-inf,0\n"
      "Infinity,0\n"
      "1E3,1\n"
      ".5,0\n"
      "5.,0\n"
      "-0,0\n"
      "4.9406564584124654e-324,0\n"
      "1.7976931348623157e308,0\n"
      "0.1000000000000000055511151231257827,0\n",
      {{1.5, -2, 3, kNaN, -kInf, kInf, 1000, 0.5, 5, -0.0, 4.9406564584124654e-324,
        1.7976931348623157e308, 0.1},
       {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}});
}

TEST(CsvReader, UnderflowReadsAsZeroOrSubnormalOverflowIsBad) {
  // As Python's float(): correctly rounded towards the subnormals, sign kept.
  check_all_splits(
      "a,label\n"
      "1e-400,0\n"
      "-1e-400,0\n"
      "2e-324,0\n"
      "3e-324,0\n"
      "\"0.000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "0000000001\",0\n",
      {{0.0, -0.0, 0.0, 4.9406564584124654e-324, 0.0}, {0, 0, 0, 0, 0}});
  for (const std::string value : {"1e400", "-1e400", "1e99999"}) {
    const CsvFile file = CsvFile::from_bytes("t.csv", "a,label\n" + value + ",1\n");
    EXPECT_THROW(read_balanced(file, file.select_columns({}, "label"), 1), DataError) << value;
  }
}

TEST(CsvReader, NonNumbersAreBad) {
  for (const std::string value : {"abc", "1.5x", "1,5", "0x10", "++1", "+-1", "1e400", "\"1\"x",
                                  "\"1\"\"\"", "1 2", "--1", "1e", "x\"y\""}) {
    const std::string text = "a,label\n1,0\n" + value + ",1\n";
    const CsvFile file = CsvFile::from_bytes("t.csv", text);
    const CsvColumns columns = file.select_columns({}, "label");
    EXPECT_THROW(read_balanced(file, columns, 1), DataError) << value;
  }
}

TEST(CsvReader, BadRowErrorsNameFileLineAndColumn) {
  // Line numbers count physical lines, including those inside quoted fields and blank lines.
  const std::string prefix = "id,x,y,label\n\"two\nlines\",1,2,0\n\n";  // rows start at 2, 4
  std::string msg = error_all_splits(prefix + "r,1,abc,1\n", ',', {"x", "y"});
  EXPECT_EQ(msg, "bad.csv:5: column \"y\": expected a number, found \"abc\"");
  msg = error_all_splits(prefix + "r,1,2\n", ',', {"x", "y"});
  EXPECT_EQ(msg,
            "bad.csv:5: expected 4 fields as in the header, found 3 (column \"label\" missing)");
  msg = error_all_splits(prefix + "r,1,2,0,9\n", ',', {"x", "y"});
  EXPECT_EQ(msg,
            "bad.csv:5: expected 4 fields as in the header, found 5 (extra field after column "
            "\"label\")");
  msg = error_all_splits(prefix + "r,1,2,\n", ',', {"x", "y"});
  EXPECT_EQ(msg, "bad.csv:5: column \"label\": empty label");
  msg = error_all_splits(prefix + "r,1,2,0\n\"open,1,2,0\n3,4\n", ',', {"x", "y"});
  EXPECT_EQ(msg, "bad.csv:6: column \"id\": quoted field not closed before the end of the file");
  // The first bad row in file order is reported, also when it is on a later line of a CRLF
  // file with a BOM.
  msg = error_all_splits(
      "\xEF\xBB\xBF"
      "x,label\r\n1,0\r\n2,1\r\nz,0\r\ny,1\r\n");
  EXPECT_EQ(msg, "bad.csv:4: column \"x\": expected a number, found \"z\"");
}

TEST(CsvReader, SkipBadRowsCountsThem) {
  const std::string text =
      "x,y,label\n1,2,0\nbad,2,0\n3,4,1\n5,6\n7,8,1,9\n9,\"10\",0\n\"unterminated,1,1\n";
  const CsvFile file = CsvFile::from_bytes("t.csv", text);
  const CsvColumns columns = file.select_columns({}, "label");
  const Expected expected{{1, 2, 3, 4, 9, 10}, {0, 1, 0}};
  for (Index c1 = file.data_begin(); c1 <= file.data_end(); ++c1) {
    for (Index c2 = c1; c2 <= file.data_end(); ++c2) {
      const auto got =
          read_split(file, columns, {file.data_begin(), c1, c2, file.data_end()}, true);
      EXPECT_TRUE(bitwise_equal(got.values, expected.values)) << c1 << " " << c2;
      EXPECT_TRUE(bitwise_equal(got.labels, expected.labels)) << c1 << " " << c2;
      EXPECT_EQ(got.skipped, 4) << c1 << " " << c2;
    }
  }
  const CsvChunk whole = file.parse_range(file.data_begin(), file.data_end(), false,
                                          file.data_begin_line(), columns, true);
  EXPECT_EQ(whole.first_bad_row, "t.csv:3: column \"x\": expected a number, found \"bad\"");
}

TEST(CsvReader, ScanRangeCountsQuotesAndNewlines) {
  const CsvFile file = CsvFile::from_bytes("t.csv", "a,label\n\"x\"\"\n\",1\n");
  const CsvRangeCounts counts = file.scan_range(file.data_begin(), file.data_end());
  EXPECT_EQ(counts.quotes, 4);
  EXPECT_EQ(counts.newlines, 2);
  EXPECT_EQ(file.scan_range(file.data_begin(), file.data_begin()).quotes, 0);
}

TEST(CsvReader, ByteRangesCoverTheDataExactly) {
  const CsvFile file = CsvFile::from_bytes("t.csv", "a,label\n1,0\n2,1\n3,0\n");
  for (int parts = 1; parts <= 20; ++parts) {
    Index next = file.data_begin();
    for (int r = 0; r < parts; ++r) {
      const IndexRange range = file.byte_range(parts, r);
      EXPECT_EQ(range.begin, next);
      next = range.end;
    }
    EXPECT_EQ(next, file.data_end());
  }
}

TEST(CsvReader, ColumnSelectionErrors) {
  const CsvFile file = CsvFile::from_bytes("t.csv", "a,b,a,label\n1,2,3,0\n");
  EXPECT_THROW(file.select_columns({"zz"}, "label"), DataError);
  EXPECT_THROW(file.select_columns({"a"}, "label"), DataError);           // ambiguous
  EXPECT_THROW(file.select_columns({"b"}, "nope"), DataError);            // unknown label
  EXPECT_THROW(file.select_columns({"b", "label"}, "label"), DataError);  // label as feature
  EXPECT_THROW(file.select_columns({"b", "b"}, "label"), DataError);      // listed twice
  EXPECT_NO_THROW(file.select_columns({"b"}, "label"));
  // All columns selected: the repeated name is refused, naming it, not fed twice.
  try {
    file.select_columns({}, "label");
    ADD_FAILURE() << "accepted a repeated header name";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("feature column \"a\" is ambiguous"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("t.csv"), std::string::npos) << e.what();
  }
  // A repeated name outside the selection is harmless.
  EXPECT_NO_THROW(
      CsvFile::from_bytes("t.csv", "a,a,b,label\n1,2,3,0\n").select_columns({"b"}, "label"));
  const CsvFile only_label = CsvFile::from_bytes("t.csv", "label\n1\n");
  EXPECT_THROW(only_label.select_columns({}, "label"), DataError);
  try {
    file.select_columns({"zz"}, "label");
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("\"zz\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.csv"), std::string::npos) << e.what();
  }
}

TEST(CsvReader, FileEndingAtAPageBoundaryIsNotOverread) {
  // A mapped file whose last byte ends a page: reading past it would fault. Ends with a
  // delimiter (an empty last field) and, in the second file, inside a number.
  for (const std::string tail : {"1,", "1,2.5"}) {
    std::string text = "a,b\n";
    while (text.size() + 4 + tail.size() < 4096) text += "3,4\n";
    text += std::string(4096 - text.size() - tail.size(), '\n');
    text += tail;
    ASSERT_EQ(text.size(), 4096u);
    const std::string path = csv_test::temp_path("page.csv");
    csv_test::write_file(path, text);
    const CsvFile file(path);
    const auto got = read_balanced(file, file.select_columns({}, ""), 3);
    ASSERT_GT(got.values.size(), 2u);
    EXPECT_EQ(got.values[got.values.size() - 2], 1.0) << tail;
    EXPECT_TRUE(csv_test::same_bits(got.values.back(), tail == "1," ? kNaN : 2.5)) << tail;
    std::remove(path.c_str());
  }
}

TEST(CsvReader, InvalidDelimiterIsRejected) {
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "a\n1\n", '"'), ConfigError);
  EXPECT_THROW(CsvFile::from_bytes("t.csv", "a\n1\n", '\n'), ConfigError);
}

TEST(CsvReader, FileErrors) {
  EXPECT_THROW(CsvFile("/nonexistent/dir/x.csv"), IoError);
  EXPECT_THROW(CsvFile("/tmp"), IoError);
  const std::string path = csv_test::temp_path("file_errors.csv");
  csv_test::write_file(path, "a,label\n1,0\n");
  CsvFile file(path);
  EXPECT_EQ(file.header(), (std::vector<std::string>{"a", "label"}));
  const CsvFile moved = std::move(file);
  EXPECT_EQ(moved.path(), path);
  const auto got = read_balanced(moved, moved.select_columns({}, "label"), 3);
  EXPECT_TRUE(bitwise_equal(got.values, {1}));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace hpcad
