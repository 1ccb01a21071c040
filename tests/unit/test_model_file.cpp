#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/model_file.hpp"

namespace hpcad {
namespace {

RowSlab training_rows() {
  RowSlab slab;
  slab.schema.n_features = 3;
  slab.schema.feature_names = {"a", "b", "c"};
  slab.global_rows = 400;
  RandomStream rng(1, "test.data", 0);
  for (int i = 0; i < 1200; ++i) slab.values.push_back(i % 17 == 0 ? NAN : rng.normal());
  return slab;
}

/// An impute step and a 7-tree forest fitted on rows with NaNs.
Model fitted_model() {
  ParamSet params(IsolationForest::param_specs());
  params.set("n_trees", std::int64_t{7});
  Model model;
  model.transforms.push_back(make_transform("impute", ParamSet(Impute::param_specs())));
  model.detector = make_detector("iforest", params);
  SerialComm comm;
  const auto source = make_memory_source(comm, training_rows(), 128);
  const Log quiet(0, 1, LogLevel::kQuiet);
  FitContext context{comm, quiet};
  model.fit(context, *source, "train.h5");
  model.training.input_path = "/data/in.h5";
  model.training.rows = 400;
  model.training.ranks = 3;
  model.training.created = "2026-01-01T00:00:00Z";
  model.training.config_sha256 = "abc";
  return model;
}

std::vector<double> scores_of(const Model& model, const RowSlab& rows) {
  SerialComm comm;
  const auto source = make_memory_source(comm, rows, 100);
  const auto features = model.features(*source, "rows");
  std::vector<double> scores(static_cast<std::size_t>(rows.n_rows()));
  RowBlock block;
  while (features->next(block))
    model.detector->score(block, std::span(scores).subspan(block.global_begin, block.n_rows));
  return scores;
}

std::string temp_file(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("hpcad-unit-") + std::to_string(::getpid()) + name))
      .string();
}

TEST(ModelFile, RoundTripIsBitExact) {
  h5::silence_errors();
  const Model model = fitted_model();
  const std::string path = temp_file("-model.h5");
  write_model_file(path, model);
  std::vector<std::byte> image = read_file_bytes(path);
  const Model back = read_model_file(image, path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.detector->type(), "iforest");
  EXPECT_EQ(back.detector->params(), model.detector->params());
  EXPECT_EQ(back.input_schema.n_features, 3);
  EXPECT_EQ(back.input_schema.feature_names, model.input_schema.feature_names);
  EXPECT_EQ(back.detector->save_state(), model.detector->save_state());  // bit for bit
  ASSERT_EQ(back.transforms.size(), 1u);
  EXPECT_EQ(back.transforms[0]->type(), "impute");
  EXPECT_EQ(back.transforms[0]->save_state(), model.transforms[0]->save_state());
  EXPECT_EQ(back.training.input_path, model.training.input_path);
  EXPECT_EQ(back.training.rows, 400);
  EXPECT_EQ(back.training.ranks, 3);
  EXPECT_EQ(back.training.created, model.training.created);
  EXPECT_EQ(scores_of(back, training_rows()), scores_of(model, training_rows()));
}

void expect_rejected(const std::function<void(hid_t)>& corrupt, const char* fragment) {
  const std::string path = temp_file("-bad.h5");
  write_model_file(path, fitted_model());
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    corrupt(file);
    H5Fclose(file);
  }
  std::vector<std::byte> image = read_file_bytes(path);
  std::filesystem::remove(path);
  try {
    read_model_file(image, path);
    ADD_FAILURE() << "accepted a model with " << fragment;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ModelFile, RejectsWrongFormatVersionDetectorAndParams) {
  h5::silence_errors();
  expect_rejected([](hid_t f) { h5::write_attribute(f, "format", std::string("other")); },
                  "not an hpcad model");
  expect_rejected([](hid_t f) { h5::write_attribute(f, "format_version", std::int64_t{99}); },
                  "version 99");
  expect_rejected([](hid_t f) { h5::write_attribute(f, "detector", std::string("svm9")); },
                  "unknown detector");
  expect_rejected(
      [](hid_t f) {
        const hid_t g = H5Gopen2(f, "transforms/0/state", H5P_DEFAULT);
        H5Ldelete(g, "fill", H5P_DEFAULT);
        H5Gclose(g);
      },
      "fill");
  expect_rejected([](hid_t f) { H5Adelete(f, "n_features"); }, "n_features");
  expect_rejected(
      [](hid_t f) {
        const hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
        h5::write_attribute(g, "sample_size", std::int64_t{1});
        H5Gclose(g);
      },
      "sample_size");
  expect_rejected([](hid_t f) { H5Ldelete(f, "state", H5P_DEFAULT); }, "/state");
}

TEST(ModelFile, RejectsFilesThatAreNotHdf5) {
  std::vector<std::byte> junk(100, std::byte{7});
  EXPECT_THROW(read_model_file(junk, "junk.h5"), DataError);
  EXPECT_THROW(read_file_bytes("/nonexistent/model.h5"), IoError);
}

}  // namespace
}  // namespace hpcad
