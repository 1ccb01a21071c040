// The file block readers under real MPI: every rank's blocks, concatenated over ranks, equal
// the table read independently in one process (plain H5Dread of the ADBench HDF5 file that
// the shared Parquet and CSV files were made from), for any rank count and block size.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../support/source_checks.hpp"
#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;

/// A directory every rank sees, made by rank 0 and removed by it at the end.
class SharedDir {
 public:
  explicit SharedDir(Comm& comm) : comm_(comm) {
    path_ = comm.broadcast_string(
        (fs::temp_directory_path() / ("hpcad-sources-" + std::to_string(::getpid()))).string(), 0);
    if (comm.rank() == 0) fs::create_directories(path_);
    comm.barrier();
  }
  ~SharedDir() {
    comm_.barrier();
    if (comm_.rank() == 0) fs::remove_all(path_);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Rank 0 writes `text`; every rank returns once it is there.
  std::string write(const std::string& name, const std::string& text) const {
    if (comm_.rank() == 0) std::ofstream(file(name)) << text;
    comm_.barrier();
    return file(name);
  }

 private:
  Comm& comm_;
  std::string path_;
};

class Sources : public testing::TestWithParam<Index> {};  // block_rows

TEST_P(Sources, Hdf5TwoDimensional) {
  MpiComm comm;
  InputSpec spec{.path = kCardioH5, .label = "y", .block_rows = GetParam()};
  expect_source_reads(comm, spec, read_reference(kCardioH5));
}

TEST_P(Sources, Hdf5Columns) {
  MpiComm comm;
  SharedDir dir(comm);
  const Table whole = read_reference(kCardioH5);
  // Three of the features as 1-D datasets in a group, in a different order.
  const std::vector<Index> picked{4, 0, 7};
  Table expected{whole.rows, 3, {}, whole.labels};
  for (Index i = 0; i < whole.rows; ++i)
    for (Index j : picked) expected.values.push_back(whole.values[i * whole.d + j]);
  const std::string path = dir.file("columns.h5");
  if (comm.rank() == 0) {
    h5::File file = h5::File::create_local(path);
    h5::Handle group = h5::own(H5Gcreate2(file.id(), "cols", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                               H5Gclose, "H5Gcreate2", path);
    for (Index j : picked) {
      std::vector<double> column;
      for (Index i = 0; i < whole.rows; ++i) column.push_back(whole.values[i * whole.d + j]);
      h5::write_vector(group.id(), "c" + std::to_string(j), column);
    }
    h5::write_vector(file.id(), "label", whole.labels);
    group.close(path);
    file.close();
  }
  comm.barrier();
  InputSpec spec{.path = path,
                 .group = "/cols",
                 .columns = {"c4", "c0", "c7"},
                 .label = "label",
                 .block_rows = GetParam()};
  expect_source_reads(comm, spec, expected);
}

TEST_P(Sources, ParquetEqualsTheHdf5Original) {
  MpiComm comm;
  for (const char* codec : {"zstd", "snappy"}) {
    InputSpec spec{.path = kShared + "/datasets/parquet/cardio." + codec + ".parquet",
                   .label = "label",
                   .block_rows = GetParam()};
    expect_source_reads(comm, spec, read_reference(kCardioH5));
  }
}

TEST_P(Sources, CsvEqualsTheHdf5Original) {
  MpiComm comm;
  InputSpec spec{
      .path = kShared + "/datasets/csv/cardio.csv", .label = "label", .block_rows = GetParam()};
  expect_source_reads(comm, spec, read_reference(kCardioH5));
}

INSTANTIATE_TEST_SUITE_P(BlockRows, Sources, testing::Values(7, 65536));

TEST(SourcesTiny, MoreRanksThanRows) {
  MpiComm comm;
  SharedDir dir(comm);
  const Table expected{2, 2, {1.5, -2, 3, 4.25}, {0, 1}};
  const std::string h5_path = dir.file("tiny.h5");
  if (comm.rank() == 0) {
    h5::File file = h5::File::create_local(h5_path);
    h5::Handle x = h5::create_dataset(file, "X", H5T_IEEE_F64LE, 2, 2);
    h5::write_rows(file, x.id(), H5T_NATIVE_DOUBLE, 0, 2, 2, expected.values.data());
    h5::write_vector(file.id(), "y", expected.labels);
    x.close(h5_path);
    file.close();
  }
  comm.barrier();
  expect_source_reads(comm, {.path = h5_path, .label = "y", .block_rows = 1}, expected);
  const std::string csv = dir.write("tiny.csv", "a,b,label\n1.5,-2,0\n3,4.25,1\n");
  expect_source_reads(comm, {.path = csv, .label = "label", .block_rows = 1}, expected);
}

/// The error every rank gets opening and reading `spec` (a test failure if there is none).
PeerError read_expecting_failure(Comm& comm, const InputSpec& spec) {
  try {
    BlockSource source(comm, open_input_reader(comm, spec), 0);
    read_all(source);
  } catch (const PeerError& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return PeerError(-1, 0, "", "");
}

TEST(SourcesErrors, BadCsvValueInTheLastRowsFailsEveryRankWithFileAndLine) {
  MpiComm comm;
  SharedDir dir(comm);
  std::string text = "x,y,label\n";
  for (int i = 0; i < 60; ++i) text += std::to_string(i) + "," + std::to_string(2 * i) + ",0\n";
  text += "60,oops,0\n";  // line 62: in the last rank's bytes
  const std::string path = dir.write("bad.csv", text);
  const PeerError e = read_expecting_failure(comm, {.path = path, .label = "label"});
  EXPECT_NE(std::string(e.what()).find(path + ":62:"), std::string::npos) << e.what();
  EXPECT_EQ(e.failed_rank(), comm.size() - 1);
  EXPECT_EQ(e.failed_count(), 1);
}

TEST(SourcesErrors, LabelOtherThanZeroOrOneFailsEveryRank) {
  MpiComm comm;
  SharedDir dir(comm);
  std::string text = "x,label\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + (i == 37 ? ",2\n" : ",1\n");
  const std::string path = dir.write("label.csv", text);
  const PeerError e = read_expecting_failure(comm, {.path = path, .label = "label"});
  EXPECT_NE(std::string(e.what()).find(path + ": row 37: label is 2, expected 0 (normal) or 1"),
            std::string::npos)
      << e.what();
  EXPECT_EQ(e.phase(), "read");
}

TEST(SourcesErrors, MissingFileFailsEveryRank) {
  MpiComm comm;
  EXPECT_THROW(open_input_reader(comm, {.path = "/nonexistent/x.h5"}), PeerError);
}

}  // namespace
}  // namespace hpcad
