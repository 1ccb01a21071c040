// read_csv_slab under real MPI (mpiexec -n 1..4): each rank's rows must be exactly its
// share of a file whose values are known, global offsets must be consistent, ranks with no
// rows must work, and a bad row must fail only on the rank that holds it without leaving
// the others waiting in a collective.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "csv_test_util.hpp"
#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/io/csv_reader.hpp"

namespace hpcad {
namespace {

using csv_test::bitwise_equal;

// Rank 0 writes `text` to a fresh file; every rank gets its path. Collective.
std::string shared_file(Comm& comm, const std::string& name, const std::string& text) {
  std::string path;
  if (comm.rank() == 0) {
    path = csv_test::temp_path(name);
    csv_test::write_file(path, text);
  }
  path = comm.broadcast_string(path, 0);
  comm.barrier();
  return path;
}

void remove_shared(Comm& comm, const std::string& path) {
  comm.barrier();
  if (comm.rank() == 0) std::remove(path.c_str());
}

// Value of row r, feature j in the generated file.
double value_of(Index r, int j) { return static_cast<double>(r) * 0.001 + j * 1e-9 - 7.25; }

std::string generated_csv(Index rows, std::vector<double>& labels) {
  std::string text =
      "\xEF\xBB\xBF"
      "f0,\"note, with comma\",f1,label\r\n";
  char buf[64];
  for (Index r = 0; r < rows; ++r) {
    std::snprintf(buf, sizeof buf, "%.17g", value_of(r, 0));
    text += buf;
    text += r % 3 == 0 ? ",\"quoted\nnew line, and \"\"quote\"\"\"," : ",plain,";
    std::snprintf(buf, sizeof buf, "%.17g", value_of(r, 1));
    text += r % 5 == 0 ? std::string("\"").append(buf).append("\"") : std::string(buf);
    labels.push_back(static_cast<double>(r % 7 == 0));
    text += r % 7 == 0 ? ",1" : ",0";
    text += r % 2 ? "\r\n" : "\n";
  }
  return text;
}

// This rank's slab holds exactly the generated rows [global_begin, global_begin + n_rows).
void expect_generated_rows(const RowSlab& slab, const std::vector<double>& labels,
                           Index total_rows) {
  std::vector<double> expected_values;
  std::vector<double> expected_labels;
  for (Index r = slab.global_begin; r < slab.global_begin + slab.n_rows(); ++r) {
    expected_values.push_back(value_of(r, 0));
    expected_values.push_back(value_of(r, 1));
    expected_labels.push_back(labels[r]);
  }
  EXPECT_TRUE(bitwise_equal(slab.values, expected_values)) << total_rows << " rows";
  EXPECT_TRUE(bitwise_equal(slab.labels, expected_labels)) << total_rows << " rows";
}

TEST(CsvMpi, EachRankReadsExactlyItsRows) {
  MpiComm comm;
  for (Index rows : {Index{0}, Index{1}, Index{3}, Index{1000}}) {
    std::vector<double> labels;
    const std::string path = shared_file(comm, "mpi_rows.csv", generated_csv(rows, labels));
    Index skipped = -1;
    RowSlab slab;
    try {  // an exception must not skip this rank's later collectives
      slab = read_csv_slab(comm, path, {}, {"f0", "f1"}, "label", &skipped);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "rank " << comm.rank() << ": " << e.what();
    }
    EXPECT_EQ(skipped, 0);
    EXPECT_EQ(slab.global_rows, rows);
    EXPECT_EQ(slab.n_features(), 2);
    EXPECT_EQ(slab.global_begin, comm.exscan_sum(slab.n_rows()));
    EXPECT_EQ(comm.allreduce_value(slab.n_rows(), ReduceOp::kSum), rows);
    expect_generated_rows(slab, labels, rows);
    if (rows >= 1000) {
      EXPECT_GT(slab.n_rows(), 0) << "balanced byte ranges give every rank rows";
    }
    remove_shared(comm, path);
  }
}

TEST(CsvMpi, SeveralFilesReadAsOne) {
  MpiComm comm;
  // The generated rows split over three files (the middle one header-only): row r of the
  // concatenation is row r of the generated table.
  std::vector<double> labels;
  const std::string text = generated_csv(300, labels);
  const std::size_t header_end = text.find("\r\n") + 2;
  const std::string header = text.substr(0, header_end);
  // Cut at the start of the record of row 120 (rows are recognisable by their first value).
  char buf[64];
  std::snprintf(buf, sizeof buf, "\n%.17g,", value_of(120, 0));
  const std::size_t cut = text.find(buf) + 1;
  const std::vector<std::string> paths{
      shared_file(comm, "mpi_multi_1.csv", text.substr(0, cut)),
      shared_file(comm, "mpi_multi_2.csv", header),
      shared_file(comm, "mpi_multi_3.csv", header + text.substr(cut))};
  RowSlab slab;
  try {
    slab = read_csv_slab(comm, paths, {}, {"f0", "f1"}, "label");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "rank " << comm.rank() << ": " << e.what();
  }
  EXPECT_EQ(slab.global_rows, 300);
  EXPECT_EQ(slab.global_begin, comm.exscan_sum(slab.n_rows()));
  expect_generated_rows(slab, labels, 300);
  for (const auto& p : paths) remove_shared(comm, p);
}

TEST(CsvMpi, SharedDatasetMatchesSerialRead) {
  MpiComm comm;
  const std::string path = std::string(HPCAD_SHARED_DIR) + "/datasets/csv/shuttle.csv";
  SerialComm serial;
  const RowSlab whole = read_csv_slab(serial, path, {}, {}, "label");
  const RowSlab slab = read_csv_slab(comm, path, {}, {}, "label");
  ASSERT_EQ(slab.global_rows, whole.global_rows);
  const Index nf = whole.n_features();
  const std::vector<double> expected(
      whole.values.begin() + slab.global_begin * nf,
      whole.values.begin() + (slab.global_begin + slab.n_rows()) * nf);
  EXPECT_TRUE(bitwise_equal(slab.values, expected));
  EXPECT_TRUE(bitwise_equal(
      slab.labels, std::vector<double>(whole.labels.begin() + slab.global_begin,
                                       whole.labels.begin() + slab.global_begin + slab.n_rows())));
}

TEST(CsvMpi, BadRowFailsOnItsRankOnlyAndNobodyHangs) {
  MpiComm comm;
  std::string text = "x,label\n";
  for (int r = 0; r < 200; ++r) text += std::to_string(r) + ",0\n";
  text += "oops,1\n";  // the last record: in the last rank's range
  const std::string path = shared_file(comm, "mpi_bad.csv", text);
  std::string message;
  try {
    read_csv_slab(comm, path, {}, {}, "label");
  } catch (const DataError& e) {
    message = e.what();
  }
  if (comm.rank() == comm.size() - 1) {
    EXPECT_EQ(message, path + ":202: column \"x\": expected a number, found \"oops\"");
  } else {
    EXPECT_EQ(message, "");
  }
  // Skip mode: every rank learns the global count.
  CsvOptions options;
  options.skip_bad_rows = true;
  Index skipped = -1;
  const RowSlab slab = read_csv_slab(comm, path, options, {}, "label", &skipped);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(slab.global_rows, 200);
  remove_shared(comm, path);  // a barrier: reached by every rank
}

}  // namespace
}  // namespace hpcad
