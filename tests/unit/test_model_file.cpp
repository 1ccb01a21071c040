#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/model_file.hpp"

namespace hpcad {
namespace {

ModelFile fitted_model() {
  RowSlab slab;
  slab.schema.n_features = 3;
  slab.global_rows = 400;
  RandomStream rng(1, StreamPurpose::kGenerateRow, 0);
  for (int i = 0; i < 1200; ++i) slab.values.push_back(rng.normal());
  ParamSet params(IsolationForest::param_specs());
  params.set("n_trees", std::int64_t{7});
  IsolationForest forest(params);
  SerialComm comm;
  forest.fit(comm, slab, Log(0, 1, LogLevel::kQuiet));
  ModelFile model;
  model.detector = "iforest";
  model.params = params;
  model.n_features = 3;
  model.feature_names = {"a", "b", "c"};
  model.state = forest.save_state();
  model.input_path = "/data/in.h5";
  model.training_rows = 400;
  model.ranks = 3;
  model.created = "2026-01-01T00:00:00Z";
  model.config_sha256 = "abc";
  return model;
}

std::string temp_file(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("hpcad-unit-") + std::to_string(::getpid()) + name))
      .string();
}

TEST(ModelFile, RoundTripIsBitExact) {
  h5::silence_errors();
  const ModelFile model = fitted_model();
  const std::string path = temp_file("-model.h5");
  write_model_file(path, model);
  std::vector<std::byte> image = read_file_bytes(path);
  const ModelFile back = read_model_file(image, path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.detector, model.detector);
  EXPECT_EQ(back.params, model.params);
  EXPECT_EQ(back.n_features, 3);
  EXPECT_EQ(back.feature_names, model.feature_names);
  EXPECT_EQ(back.state, model.state);  // every array, bit for bit
  EXPECT_EQ(back.input_path, model.input_path);
  EXPECT_EQ(back.training_rows, 400);
  EXPECT_EQ(back.ranks, 3);
  EXPECT_EQ(back.created, model.created);
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
