// read_csv_slab, the collective entry point, under SerialComm and under ThreadComm (P ranks
// as threads in one process), exercising the exscan/allreduce logic, zero-row ranks and a rank
// failing without leaving the others waiting.
#include <gtest/gtest.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "csv_test_util.hpp"
#include "hpcad/comm/comm.hpp"
#include "hpcad/comm/thread_comm.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

using csv_test::bitwise_equal;

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
  return "?";
}

class CsvSlab : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = csv_test::temp_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(CsvSlab, SerialCommReadsEverything) {
  csv_test::write_file(path_, "id,x,y,label\r\n\"a\nb\",1,2,0\r\nc,3,,1\r\n");
  SerialComm comm;
  Index skipped = -1;
  const RowSlab slab = read_csv_slab(comm, path_, {}, {"y", "x"}, "label", &skipped);
  EXPECT_EQ(slab.schema.n_features, 2);
  EXPECT_EQ(slab.schema.feature_names, (std::vector<std::string>{"y", "x"}));
  EXPECT_EQ(slab.global_begin, 0);
  EXPECT_EQ(slab.global_rows, 2);
  EXPECT_EQ(skipped, 0);
  EXPECT_TRUE(slab.has_labels);
  EXPECT_TRUE(bitwise_equal(slab.values, {2, 1, std::numeric_limits<double>::quiet_NaN(), 3}));
  EXPECT_TRUE(bitwise_equal(slab.labels, {0, 1}));
  const RowSlab no_label = read_csv_slab(comm, path_, {}, {"x"}, "");
  EXPECT_FALSE(no_label.has_labels);
  EXPECT_TRUE(no_label.labels.empty());
}

TEST_F(CsvSlab, ThreadRanksPartitionRowsExactly) {
  // 50 rows, some with quoted multi-line text, CRLF and a bad row in skip mode.
  std::string text = "x,note,label\n";
  std::vector<double> expected;
  for (int r = 0; r < 50; ++r) {
    text += std::to_string(r) + (r % 3 ? ",plain," : ",\"multi\r\nline, \"\"q\"\"\",") +
            std::to_string(r % 2) + (r % 4 ? "\n" : "\r\n");
    if (r == 20) text += "oops,,1\n";
    expected.push_back(r);
  }
  csv_test::write_file(path_, text);
  for (int ranks : {1, 2, 3, 4, 7, 60, 2000}) {
    std::vector<RowSlab> slabs(ranks);
    std::vector<Index> skipped(ranks, -1);
    CsvOptions options;
    options.skip_bad_rows = true;
    const auto errors = run_on_threads_collect(ranks, [&](Comm& comm) {
      slabs[comm.rank()] =
          read_csv_slab(comm, path_, options, {"x"}, "label", &skipped[comm.rank()]);
    });
    std::vector<double> all;
    Index next = 0;
    for (int r = 0; r < ranks; ++r) {
      ASSERT_FALSE(errors[r]) << message_of(errors[r]);
      EXPECT_EQ(slabs[r].global_begin, next) << ranks << " ranks, rank " << r;
      EXPECT_EQ(slabs[r].global_rows, 50);
      EXPECT_EQ(skipped[r], 1);
      EXPECT_EQ(slabs[r].labels.size(), static_cast<std::size_t>(slabs[r].n_rows()));
      for (Index i = 0; i < slabs[r].n_rows(); ++i) {
        EXPECT_EQ(slabs[r].labels[i], static_cast<double>((slabs[r].global_begin + i) % 2));
      }
      next += slabs[r].n_rows();
      all.insert(all.end(), slabs[r].values.begin(), slabs[r].values.end());
    }
    EXPECT_EQ(next, 50);
    EXPECT_TRUE(bitwise_equal(all, expected)) << ranks << " ranks";
  }
}

TEST_F(CsvSlab, FailingRankDoesNotBlockOthers) {
  std::string text = "x,label\n";
  for (int r = 0; r < 100; ++r) text += std::to_string(r) + ",0\n";
  text += "bad,1\n";  // in the last rank's range
  csv_test::write_file(path_, text);
  const auto errors =
      run_on_threads_collect(4, [&](Comm& comm) { read_csv_slab(comm, path_, {}, {}, "label"); });
  for (int r = 0; r < 3; ++r) EXPECT_FALSE(errors[r]) << message_of(errors[r]);
  ASSERT_TRUE(errors[3]);
  EXPECT_EQ(message_of(errors[3]), path_ + ":102: column \"x\": expected a number, found \"bad\"");

  // Every rank fails to open: each throws IoError, none hangs.
  const auto open_errors = run_on_threads_collect(
      3, [&](Comm& comm) { read_csv_slab(comm, path_ + ".missing", {}, {}, "label"); });
  for (const auto& e : open_errors) {
    ASSERT_TRUE(e);
    EXPECT_THROW(std::rethrow_exception(e), IoError);
  }
  // Only some ranks fail (an unknown feature is found everywhere, so simulate a per-rank
  // failure with different arguments): the others still complete.
  const auto mixed = run_on_threads_collect(3, [&](Comm& comm) {
    read_csv_slab(comm, comm.rank() == 1 ? path_ + ".missing" : path_, {}, {}, "label");
  });
  EXPECT_TRUE(mixed[1]);
  EXPECT_FALSE(mixed[0]) << message_of(mixed[0]);
}

TEST_F(CsvSlab, HeaderOnlyFileGivesZeroRowsOnEveryRank) {
  csv_test::write_file(path_, "a,b,label\n");
  std::vector<RowSlab> slabs(3);
  const auto errors = run_on_threads_collect(
      3, [&](Comm& comm) { slabs[comm.rank()] = read_csv_slab(comm, path_, {}, {}, "label"); });
  for (int r = 0; r < 3; ++r) {
    ASSERT_FALSE(errors[r]) << message_of(errors[r]);
    EXPECT_EQ(slabs[r].n_rows(), 0);
    EXPECT_EQ(slabs[r].global_rows, 0);
    EXPECT_EQ(slabs[r].n_features(), 2);
  }
}

}  // namespace
}  // namespace hpcad

namespace hpcad {
namespace {

class CsvMultiFile : public ::testing::Test {
 protected:
  std::string make(const std::string& name, const std::string& text) {
    const std::string path = csv_test::temp_path("multi_" + name);
    csv_test::write_file(path, text);
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(CsvMultiFile, FilesAreReadAsTheirConcatenation) {
  // File 1 ends inside nothing special but lacks a final newline; file 2 is header-only;
  // file 3 has a BOM, CRLF and multi-line quoted fields; file 4 has an odd number of quotes in
  // total only if parity leaked across files (it must not).
  std::vector<double> expected;
  std::string f1 = "x,note,label\n";
  for (int r = 0; r < 20; ++r) {
    f1 += std::to_string(r) + ",\"a\nb\"," + std::to_string(r % 2) + (r < 19 ? "\n" : "");
    expected.push_back(r);
  }
  std::string f3 =
      "\xEF\xBB\xBF"
      "x,note,label\r\n";
  for (int r = 20; r < 45; ++r) {
    f3 += std::to_string(r) + (r % 2 ? ",\"q\"\"\r\n,\"," : ",plain,") + std::to_string(r % 2) +
          "\r\n";
    expected.push_back(r);
  }
  std::string f4 = "x,note,label\n";
  for (int r = 45; r < 50; ++r) {
    f4 += std::to_string(r) + ",\"\"\"\"," + std::to_string(r % 2) + "\n";
    expected.push_back(r);
  }
  const std::vector<std::string> paths{make("1.csv", f1), make("2.csv", "x,note,label\n"),
                                       make("3.csv", f3), make("4.csv", f4)};
  for (int ranks : {1, 2, 3, 4, 7, 13, 500}) {
    std::vector<RowSlab> slabs(ranks);
    const auto errors = run_on_threads_collect(ranks, [&](Comm& comm) {
      slabs[comm.rank()] = read_csv_slab(comm, paths, {}, {"x"}, "label");
    });
    std::vector<double> all;
    Index next = 0;
    for (int r = 0; r < ranks; ++r) {
      ASSERT_FALSE(errors[r]) << message_of(errors[r]);
      EXPECT_EQ(slabs[r].global_begin, next);
      EXPECT_EQ(slabs[r].global_rows, 50);
      for (Index i = 0; i < slabs[r].n_rows(); ++i) {
        EXPECT_EQ(slabs[r].labels[i], static_cast<double>((slabs[r].global_begin + i) % 2));
      }
      next += slabs[r].n_rows();
      all.insert(all.end(), slabs[r].values.begin(), slabs[r].values.end());
    }
    EXPECT_TRUE(bitwise_equal(all, expected)) << ranks << " ranks";
  }
}

TEST_F(CsvMultiFile, ErrorsNameTheFileAndItsOwnLine) {
  const std::string a = make("a.csv", "x,note,label\n1,\"multi\nline\",0\n2,n,1\n");
  const std::string b = make("b.csv", "x,note,label\n3,\"\"\"\",0\nbad,\"\",1\n");
  for (int ranks : {1, 2, 3, 5}) {
    const auto errors = run_on_threads_collect(ranks, [&](Comm& comm) {
      read_csv_slab(comm, std::vector<std::string>{a, b}, {}, {"x"}, "label");
    });
    std::vector<std::string> messages;
    for (const auto& e : errors) {
      if (e) messages.push_back(message_of(e));
    }
    ASSERT_EQ(messages.size(), 1u) << ranks << " ranks";
    EXPECT_EQ(messages[0], b + ":3: column \"x\": expected a number, found \"bad\"");
  }
  const std::string c = make("c.csv", "x,note,y\n1,,0\n");
  SerialComm comm;
  try {
    read_csv_slab(comm, std::vector<std::string>{a, c}, {}, {}, "label");
    ADD_FAILURE() << "no error for a different header";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()),
              c + ": header differs from " + a + "'s: column 3 is \"y\", expected \"label\"");
  }
  EXPECT_THROW(read_csv_slab(comm, std::vector<std::string>{}, {}, {}, "label"), IoError);
}

}  // namespace
}  // namespace hpcad
