// Distributed algorithms under real MPI, checked against the same computation in one
// process (SerialComm) on the whole data: the split-fit-merge result must equal the
// whole fit, bit for bit, for every rank count, including ranks with no rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "../support/comm_checks.hpp"
#include "../support/detector_testing.hpp"
#include "../support/forest_params.hpp"
#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/eval/metrics.hpp"
#include "hpcad/eval/threshold.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/input.hpp"
#include "hpcad/io/score_writer.hpp"
#include "hpcad/io/sources.hpp"
#include "hpcad/model/model.hpp"

namespace hpcad {
namespace {

using testing_support::block_of;
using testing_support::fit_slab;
using testing_support::forest_params;

/// The whole table, identical on every rank; rows sorted by feature 0 when `sorted`
/// (the skewed case: each rank holds a different region of the space).
std::vector<double> make_table(Index rows, Index d, bool sorted) {
  std::vector<double> v;
  for (Index i = 0; i < rows; ++i) {
    RandomStream rng(99, "test.data", static_cast<std::uint64_t>(i));
    const bool outlier = i % 37 == 0;
    for (Index j = 0; j < d; ++j) v.push_back(outlier ? 6 + rng.normal() : rng.normal());
  }
  if (sorted) {
    std::vector<std::vector<double>> r;
    for (Index i = 0; i < rows; ++i) r.emplace_back(v.begin() + i * d, v.begin() + (i + 1) * d);
    std::sort(r.begin(), r.end());
    v.clear();
    for (const auto& row : r) v.insert(v.end(), row.begin(), row.end());
  }
  return v;
}

RowSlab slab_of(const std::vector<double>& table, Index d, Comm& comm) {
  const Index rows = static_cast<Index>(table.size()) / d;
  const IndexRange mine = partition_rows(rows, comm.size(), comm.rank());
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  slab.global_begin = mine.begin;
  slab.values.assign(table.begin() + mine.begin * d, table.begin() + mine.end * d);
  return slab;
}

class Distributed : public testing::TestWithParam<std::tuple<Index, bool>> {};

TEST_P(Distributed, ForestAndScoresEqualTheSingleProcessFit) {
  const auto [rows, sorted] = GetParam();
  const Index d = 4;
  MpiComm comm;
  SerialComm serial;
  const auto table = make_table(rows, d, sorted);
  const RowSlab slab = slab_of(table, d, comm);
  RowSlab whole = slab_of(table, d, serial);

  IsolationForest distributed(forest_params(37, 64, 5)), reference(forest_params(37, 64, 5));
  fit_slab(distributed, slab, comm, 100);
  fit_slab(reference, whole, serial, 1000);
  EXPECT_EQ(distributed.save_state(), reference.save_state());

  std::vector<double> local(static_cast<std::size_t>(slab.n_rows())),
      all(static_cast<std::size_t>(rows));
  distributed.score(block_of(slab), local);
  reference.score(block_of(whole), all);
  for (Index i = 0; i < slab.n_rows(); ++i)
    ASSERT_EQ(local[i], all[slab.global_begin + i]) << "row " << i;

  // Threshold and metrics across ranks equal the single-process results exactly.
  for (double c : {0.01, 0.05, 0.3}) {
    const ThresholdResult t = contamination_threshold(comm, local, c);
    const ThresholdResult ref = contamination_threshold(serial, all, c);
    EXPECT_EQ(t.threshold, ref.threshold);
    EXPECT_EQ(t.flagged, ref.flagged);
  }
  std::vector<std::int8_t> labels_all(static_cast<std::size_t>(rows)), labels_local;
  for (Index i = 0; i < rows; ++i) labels_all[i] = (i * 7919) % 13 == 0 ? 1 : 0;
  labels_local.assign(labels_all.begin() + slab.global_begin,
                      labels_all.begin() + slab.global_begin + slab.n_rows());
  const BinaryMetrics m = evaluate_scores(comm, local, labels_local, 0.5);
  const BinaryMetrics mref = evaluate_scores(serial, all, labels_all, 0.5);
  EXPECT_EQ(m.roc_auc, mref.roc_auc);
  EXPECT_EQ(m.pr_auc, mref.pr_auc);
  EXPECT_EQ(m.true_positives, mref.true_positives);
  EXPECT_EQ(m.false_positives, mref.false_positives);
}

// 2 and 3 rows: with 3-4 ranks some ranks hold no rows.
INSTANTIATE_TEST_SUITE_P(Shapes, Distributed,
                         testing::Values(std::make_tuple(Index{2000}, false),
                                         std::make_tuple(Index{2000}, true),
                                         std::make_tuple(Index{257}, false),
                                         std::make_tuple(Index{3}, false),
                                         std::make_tuple(Index{2}, false)));

TEST(GuardedPhase, OneRankFailingEndsThePhaseOnEveryRank) {
  MpiComm comm;
  const int last = comm.size() - 1;
  try {
    guarded_phase(comm, "read", [&] {
      if (comm.rank() == last) throw DataError("bad row 17 on the last rank");
    });
    ADD_FAILURE() << "no error raised";
  } catch (const PeerError& e) {
    EXPECT_EQ(e.failed_rank(), last);
    EXPECT_EQ(e.failed_count(), 1);
    EXPECT_EQ(e.phase(), "read");
    EXPECT_STREQ(e.what(), "bad row 17 on the last rank");
  }
  // Every rank fails: the lowest rank's message wins, the count says how many failed.
  try {
    guarded_phase(comm, "fit",
                  [&] { throw IoError("failure on rank " + std::to_string(comm.rank())); });
    ADD_FAILURE() << "no error raised";
  } catch (const PeerError& e) {
    EXPECT_EQ(e.failed_rank(), 0);
    EXPECT_EQ(e.failed_count(), comm.size());
    EXPECT_STREQ(e.what(), "failure on rank 0");
  }
  EXPECT_NO_THROW(guarded_phase(comm, "ok", [] {}));
}

TEST(MpiCommPointToPoint, ShiftsWithUnevenAndEmptyMessages) {
  MpiComm comm;
  testing_support::check_shifts(comm);
}

TEST(MpiCommPointToPoint, RingPassOfRankTaggedBlocks) {
  MpiComm comm;
  testing_support::check_ring_pass(comm);
}

TEST(MpiCommTyped, AllgathervAndAllgatherInRankOrder) {
  MpiComm comm;
  testing_support::check_typed_gathers(comm);
}

std::string shared_temp(MpiComm& comm, const char* name) {
  std::string path;
  if (comm.rank() == 0)
    path = (std::filesystem::temp_directory_path() /
            (std::string("hpcad-mpi-") + std::to_string(::getpid()) + name))
               .string();
  return comm.broadcast_string(path, 0);
}

TEST(Hdf5Reader, CollectiveBlockReadsMatchTheFileForAnyBlockSize) {
  MpiComm comm;
  for (Index rows : {Index{1}, Index{2}, Index{5}, Index{103}}) {
    const Index d = 3;
    const std::string path = shared_temp(comm, "-in.h5");
    std::vector<std::int32_t> x(static_cast<std::size_t>(rows * d));  // integers: converted on read
    std::vector<std::int8_t> y(static_cast<std::size_t>(rows));
    for (Index i = 0; i < rows * d; ++i) x[i] = static_cast<std::int32_t>(i * 3 - 50);
    for (Index i = 0; i < rows; ++i) y[i] = i % 4 == 1;
    if (comm.rank() == 0) {
      const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(d)};
      const hid_t s2 = H5Screate_simple(2, dims, nullptr), s1 = H5Screate_simple(1, dims, nullptr);
      const hid_t dx = H5Dcreate2(f, "X", H5T_STD_I32LE, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const hid_t dy = H5Dcreate2(f, "y", H5T_STD_I8LE, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(dx, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data());
      H5Dwrite(dy, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, y.data());
      H5Dclose(dx), H5Dclose(dy), H5Sclose(s1), H5Sclose(s2), H5Fclose(f);
    }
    comm.barrier();
    for (Index block : {Index{1}, Index{2}, Index{7}, Index{65536}}) {
      InputSpec spec;
      spec.path = path;
      spec.label = "y";
      spec.block_rows = block;
      const RowSlab slab = read_input(comm, spec);
      const IndexRange mine = partition_rows(rows, comm.size(), comm.rank());
      EXPECT_EQ(slab.global_begin, mine.begin);
      EXPECT_EQ(slab.global_rows, rows);
      ASSERT_EQ(slab.n_rows(), mine.size());
      for (Index i = 0; i < mine.size() * d; ++i) EXPECT_EQ(slab.values[i], x[mine.begin * d + i]);
      for (Index i = 0; i < mine.size(); ++i) EXPECT_EQ(slab.labels[i], y[mine.begin + i]);
    }
    comm.barrier();
    if (comm.rank() == 0) std::filesystem::remove(path);
  }
}

TEST(Hdf5Input, NonFiniteValueIsReportedOnEveryRankOrImputedFromTrainingRows) {
  MpiComm comm;
  const std::string path = shared_temp(comm, "-nan.h5");
  const Index rows = 10, d = 2;
  std::vector<double> x(rows * d, 1.0);
  x[7 * d + 1] = std::nan("");
  if (comm.rank() == 0) {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {rows, d};
    const hid_t s = H5Screate_simple(2, dims, nullptr);
    const hid_t dx = H5Dcreate2(f, "X", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dx, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data());
    H5Dclose(dx), H5Sclose(s), H5Fclose(f);
  }
  comm.barrier();
  InputSpec spec;
  spec.path = path;
  BlockSource source(comm, open_input_reader(comm, spec), 0);
  const Log quiet(comm.rank(), comm.size(), LogLevel::kQuiet);
  FitContext context{comm, quiet};
  Model model;
  model.detector = make_detector("iforest", forest_params(5, 4, 1));
  try {
    model.fit(context, source, path);
    ADD_FAILURE() << "NaN accepted";
  } catch (const PeerError& e) {
    EXPECT_NE(std::string(e.what()).find("row 7, column 1: value is nan"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.phase(), "transform");
  }
  // With an impute step the NaN becomes the mean of the column's finite training values.
  model.transforms.push_back(make_transform("impute", ParamSet(Impute::param_specs())));
  model.fit(context, source, path);
  const auto features = model.features(source, path);
  const RowSlab imputed = read_all(*features);
  for (double v : imputed.values) EXPECT_EQ(v, 1.0);
  EXPECT_EQ(comm.allreduce_value(features->non_finite_inputs(), ReduceOp::kSum), 1);
  comm.barrier();
  if (comm.rank() == 0) std::filesystem::remove(path);
}

TEST(ScoreWriter, CollectiveWriteHoldsEveryRankRowsInOrder) {
  MpiComm comm;
  for (Index rows : {Index{2}, Index{11}}) {
    const std::string path = shared_temp(comm, "-scores.h5");
    const IndexRange mine = partition_rows(rows, comm.size(), comm.rank());
    std::vector<double> local;
    for (Index i = mine.begin; i < mine.end; ++i) local.push_back(0.01 * static_cast<double>(i));
    ScoreFileInfo info;
    info.threshold = 0.045;
    info.provenance.ranks = comm.size();
    write_score_file(comm, path, mine.begin, rows, local, {}, info);
    comm.barrier();
    if (comm.rank() == 0) {
      h5::File f = h5::File::open_local(path);
      const auto score = h5::read_vector<double>(f.id(), "score", path);
      const auto flags = h5::read_vector<std::int8_t>(f.id(), "is_anomaly", path);
      ASSERT_EQ(static_cast<Index>(score.size()), rows);
      for (Index i = 0; i < rows; ++i) {
        EXPECT_EQ(score[i], 0.01 * static_cast<double>(i));
        EXPECT_EQ(flags[i], score[i] > 0.045 ? 1 : 0);
      }
      EXPECT_EQ(h5::read_int_attribute(f.id(), "ranks").value(), comm.size());
      f.close();
      std::filesystem::remove(path);
    }
    comm.barrier();
  }
}

}  // namespace
}  // namespace hpcad
