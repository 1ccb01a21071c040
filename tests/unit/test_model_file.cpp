#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <string_view>

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

void fit_on(Model& model, const RowSlab& rows, Index block_rows) {
  SerialComm comm;
  const auto source = make_memory_source(comm, rows, block_rows);
  const Log quiet(0, 1, LogLevel::kQuiet);
  FitContext context{comm, quiet};
  model.fit(context, *source, "train.h5");
}

/// The model written to a temporary file (named with `suffix`) and read back.
Model through_file(const Model& model, const char* suffix) {
  const std::string path = temp_file(suffix);
  write_model_file(path, model);
  std::vector<std::byte> image = read_file_bytes(path);
  Model back = read_model_file(image, path);
  std::filesystem::remove(path);
  return back;
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

// A number-or-string hyperparameter (ocsvm's gamma) comes back as whichever it was.
TEST(ModelFile, RoundTripsANumberOrStringParameter) {
  h5::silence_errors();
  for (const ParamValue& gamma : {ParamValue{std::string("scale")}, ParamValue{0.375}}) {
    ParamSet params(find_detector("ocsvm").params);
    params.set("gamma", gamma);
    params.set("n_components", std::int64_t{8});
    params.set("epochs", std::int64_t{2});
    Model model;
    model.detector = make_detector("ocsvm", params);
    model.transforms.push_back(make_transform("impute", ParamSet(Impute::param_specs())));
    fit_on(model, training_rows(), 128);
    const Model back = through_file(model, "-gamma.h5");
    EXPECT_EQ(back.detector->params().values().at("gamma"), gamma);
    EXPECT_EQ(back.detector->save_state(), model.detector->save_state());
  }
}

// The global-statistics steps (their params with an unset optional real and an empty list,
// real and integer state, a changed schema) survive the file bit for bit.
TEST(ModelFile, RoundTripsTheStatisticsSteps) {
  h5::silence_errors();
  RowSlab rows = training_rows();
  for (Index i = 0; i < rows.n_rows(); ++i) rows.values[i * 3 + 2] = 2.5;  // c is constant
  const auto step = [](const std::string& type, const std::string& key, ParamValue value) {
    ParamSet params(find_transform(type).params);
    if (!key.empty()) params.set(key, std::move(value));
    return make_transform(type, params);
  };
  Model model;
  model.transforms.push_back(step("impute", "strategy", std::string("median")));
  model.transforms.push_back(step("scale", "method", std::string("robust")));
  model.transforms.push_back(step("drop_constant", "", {}));
  model.detector = make_detector("iforest", ParamSet(IsolationForest::param_specs()));
  fit_on(model, rows, 64);
  const Model back = through_file(model, "-steps.h5");
  ASSERT_EQ(back.transforms.size(), 3u);
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(back.transforms[s]->type(), model.transforms[s]->type());
    EXPECT_EQ(back.transforms[s]->params(), model.transforms[s]->params());
    EXPECT_EQ(back.transforms[s]->save_state(), model.transforms[s]->save_state());
  }
  EXPECT_EQ(back.feature_schema().feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scores_of(back, rows), scores_of(model, rows));
}

/// Loading `image` must fail with a DataError naming `path` and containing `fragment`.
void expect_invalid(std::vector<std::byte>& image, const std::string& path, const char* fragment) {
  try {
    read_model_file(image, path);
    ADD_FAILURE() << "accepted a model with " << fragment;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

enum class Checksum { kKeep, kStrip };

/// A fitted model's file, changed by `corrupt` through the HDF5 API. kStrip makes it a
/// version 2 file without a checksum, as a crafted file would be, so that the structural
/// validation (not the checksum) must catch the change.
std::vector<std::byte> corrupted_image(const std::string& path,
                                       const std::function<void(hid_t)>& corrupt,
                                       Checksum checksum) {
  write_model_file(path, fitted_model());
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    if (checksum == Checksum::kStrip) {
      h5::write_attribute(file, "format_version", std::int64_t{2});
      H5Adelete(file, kContentSha256);
    }
    corrupt(file);
    H5Fclose(file);
  }
  std::vector<std::byte> image = read_file_bytes(path);
  std::filesystem::remove(path);
  return image;
}

void expect_rejected(const std::function<void(hid_t)>& corrupt, const char* fragment,
                     Checksum checksum = Checksum::kKeep) {
  const std::string path = temp_file("-bad.h5");
  std::vector<std::byte> image = corrupted_image(path, corrupt, checksum);
  expect_invalid(image, path, fragment);
}

/// The state array `name` of the detector (or the group `group`), rewritten by `change`.
template <typename T>
std::function<void(hid_t)> edit_array(const std::string& name,
                                      const std::function<void(std::vector<T>&)>& change,
                                      const std::string& group = "state") {
  return [=](hid_t file) {
    const hid_t g = H5Gopen2(file, group.c_str(), H5P_DEFAULT);
    std::vector<T> values = h5::read_vector<T>(g, name, "test");
    change(values);
    H5Ldelete(g, name.c_str(), H5P_DEFAULT);
    h5::write_vector(g, name, values);
    H5Gclose(g);
  };
}

std::function<void(hid_t)> set_node(const std::string& name, std::size_t node, std::int64_t value) {
  return edit_array<std::int64_t>(name, [=](auto& v) { v.at(node) = value; });
}

std::function<void(hid_t)> set_param(const std::string& name, std::int64_t value) {
  return [=](hid_t file) {
    const hid_t g = H5Gopen2(file, "params", H5P_DEFAULT);
    h5::write_attribute(g, name, value);
    H5Gclose(g);
  };
}

/// The first internal node of tree 0 (the root, as trees of 400 rows always split).
constexpr std::size_t kRoot = 0;

TEST(ModelFile, RejectsCraftedTreeIndices) {
  h5::silence_errors();
  constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
  expect_rejected(set_node("node_left", kRoot, kInt64Max), "child index out of range",
                  Checksum::kStrip);
  expect_rejected(
      [](hid_t f) {
        set_node("node_feature", kRoot, 99)(f);
        set_node("node_left", kRoot, std::int64_t{1} << 40)(f);
      },
      "feature or child index out of range", Checksum::kStrip);
  expect_rejected(set_node("node_feature", kRoot, std::int64_t{1} << 32),
                  "feature or child index out of range", Checksum::kStrip);
  expect_rejected(set_node("node_feature", kRoot, -2), "feature or child index out of range",
                  Checksum::kStrip);
  // A leaf (the last node of tree 0) whose unused child index is garbage.
  expect_rejected(
      [](hid_t f) {
        const auto offsets = h5::read_vector<std::int64_t>(f, "state/tree_offsets", "test");
        set_node("node_left", static_cast<std::size_t>(offsets[1] - 1), kInt64Max)(f);
      },
      "leaf", Checksum::kStrip);
}

TEST(ModelFile, RejectsCraftedTreeOffsets) {
  h5::silence_errors();
  expect_rejected(set_node("tree_offsets", 1, std::int64_t{1} << 40), "offsets", Checksum::kStrip);
  expect_rejected(edit_array<std::int64_t>("tree_offsets", [](auto& v) { v[2] = v[1] - 1; }),
                  "offsets are out of order", Checksum::kStrip);
  expect_rejected(set_node("tree_offsets", 0, -1), "do not span", Checksum::kStrip);
  expect_rejected(edit_array<std::int64_t>("tree_offsets", [](auto& v) { v.pop_back(); }),
                  "tree count", Checksum::kStrip);
}

TEST(ModelFile, RejectsTreesThatAreNotTrees) {
  h5::silence_errors();
  // Two parents share children: node 0's children become node 1's too (a DAG).
  expect_rejected(
      [](hid_t f) {
        const auto left = h5::read_vector<std::int64_t>(f, "state/node_left", "test");
        const auto feature = h5::read_vector<std::int64_t>(f, "state/node_feature", "test");
        // The root's left child is internal in a 400-row tree; point it at its own parent's
        // children (and so before itself), or if it is a leaf, at a later node's.
        const auto child = static_cast<std::size_t>(left[kRoot]);
        ASSERT_GE(feature[child], 0);
        set_node("node_left", child, left[child] + 2)(f);
      },
      "tree 0 node", Checksum::kStrip);
  // Trees deeper than the stored max_depth allows.
  expect_rejected(set_param("max_depth", std::int64_t{2}), "deeper than max_depth = 2",
                  Checksum::kStrip);
}

TEST(ModelFile, RejectsNonFiniteNodeValues) {
  h5::silence_errors();
  for (const double bad : {NAN, INFINITY})
    expect_rejected(edit_array<double>("node_value", [=](auto& v) { v[kRoot] = bad; }),
                    "non-finite value", Checksum::kStrip);
  expect_rejected(edit_array<double>("node_value", [](auto& v) { v.back() = -1; }),
                  "path length out of range", Checksum::kStrip);
}

TEST(ModelFile, RejectsHugeDeclaredArraysBeforeAllocating) {
  h5::silence_errors();
  expect_rejected(
      [](hid_t f) {
        H5Ldelete(f, "state/node_value", H5P_DEFAULT);
        const hsize_t dims = hsize_t{1} << 60, chunk = 1024;
        const hid_t space = H5Screate_simple(1, &dims, nullptr);
        const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(plist, 1, &chunk);
        const hid_t d = H5Dcreate2(f, "state/node_value", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT,
                                   plist, H5P_DEFAULT);
        ASSERT_GE(d, 0);
        H5Dclose(d);
        H5Pclose(plist);
        H5Sclose(space);
      },
      "declares 1152921504606846976 values", Checksum::kStrip);
}

TEST(ModelFile, RejectsAttributesWithAbsurdDeclaredSizes) {
  h5::silence_errors();
  // 3001 names, then the attribute's declared element count (stored twice: size and maximum
  // size) patched to 2^40 in the file's bytes, as a crafted or corrupt file would have it.
  const std::string path = temp_file("-names.h5");
  std::vector<std::byte> image = corrupted_image(
      path,
      [](hid_t f) { h5::write_attribute(f, "feature_names", std::vector<std::string>(3001, "x")); },
      Checksum::kStrip);
  auto word = [](std::uint64_t v) {
    std::vector<std::byte> bytes(8);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::byte>(v >> (8 * i));
    return bytes;
  };
  const auto from = word(3001), to = word(std::uint64_t{1} << 40);
  int patched = 0;
  for (auto at = image.begin();
       (at = std::search(at, image.end(), from.begin(), from.end())) != image.end(); ++patched)
    at = std::copy(to.begin(), to.end(), at);
  ASSERT_EQ(patched, 2);
  expect_invalid(image, path, "feature_names");
}

TEST(ModelFile, RejectsDeepCyclicAndLinkedStateGroups) {
  h5::silence_errors();
  expect_rejected(
      [](hid_t f) {
        std::string name = "state";
        for (int i = 0; i < 40; ++i) {
          name += "/c";
          H5Gclose(H5Gcreate2(f, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        }
      },
      "nested more than", Checksum::kStrip);
  expect_rejected(
      [](hid_t f) { H5Lcreate_hard(f, "state", f, "state/loop", H5P_DEFAULT, H5P_DEFAULT); },
      "nested more than", Checksum::kStrip);
  expect_rejected(
      [](hid_t f) {
        H5Lcreate_external("/etc/passwd", "/x", f, "state/ext", H5P_DEFAULT, H5P_DEFAULT);
      },
      "links are not allowed", Checksum::kStrip);
  expect_rejected(
      [](hid_t f) {
        H5Lcreate_soft("/state", f, "transforms/0/state/s", H5P_DEFAULT, H5P_DEFAULT);
      },
      "links are not allowed", Checksum::kStrip);
}

TEST(ModelFile, ChecksumDetectsAFlippedBitInANodeValue) {
  h5::silence_errors();
  const std::string path = temp_file("-flip.h5");
  const Model model = fitted_model();
  write_model_file(path, model);
  std::vector<std::byte> image = read_file_bytes(path);
  std::filesystem::remove(path);
  // The stored bytes of one threshold, found in the file and their lowest bit flipped: the
  // tree stays valid, only its scores would change.
  const double threshold = model.detector->save_state().reals.at("node_value")[kRoot];
  const auto bytes = std::as_bytes(std::span(&threshold, 1));
  const auto at = std::search(image.begin(), image.end(), bytes.begin(), bytes.end());
  ASSERT_NE(at, image.end());
  *at ^= std::byte{1};
  expect_invalid(image, path, "content checksum mismatch: the file is corrupt or was modified");
}

TEST(ModelFile, ChecksumDetectsChangedParamsAndSteps) {
  h5::silence_errors();
  // seed 42 -> 43: one bit, a valid value, invisible to any range check.
  expect_rejected(set_param("seed", std::int64_t{42 ^ 1}), "content checksum mismatch");
  expect_rejected(edit_array<double>(
                      "fill", [](auto& v) { v[0] = -v[0]; }, "transforms/0/state"),
                  "content checksum mismatch");
  expect_rejected([](hid_t f) { H5Adelete(f, kContentSha256); }, "requires the 'content_sha256'");
}

TEST(ModelFile, ReadsVersion2FilesWithoutChecksum) {
  h5::silence_errors();
  const std::string path = temp_file("-v2.h5");
  std::vector<std::byte> image = corrupted_image(
      path, [](hid_t) {}, Checksum::kStrip);
  const Model back = read_model_file(image, path);
  EXPECT_EQ(scores_of(back, training_rows()), scores_of(fitted_model(), training_rows()));
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
      "fill", Checksum::kStrip);
  expect_rejected([](hid_t f) { H5Adelete(f, "n_features"); }, "n_features");
  expect_rejected(set_param("sample_size", std::int64_t{1}), "sample_size = 1", Checksum::kStrip);
  expect_rejected([](hid_t f) { H5Ldelete(f, "state", H5P_DEFAULT); }, "/state");
}

// HDF5 1.10 loops forever on a global heap collection (where variable-length strings live)
// whose free-space object declares 0 bytes; fuzz_model_file found such a file
// (tests/fuzz/regression/model_file/). The loader refuses it before HDF5 parses the heap,
// and also an object that overruns its collection.
TEST(ModelFile, RejectsGlobalHeapsThatWouldHangHdf5) {
  h5::silence_errors();
  const std::string path = temp_file("-heap.h5");
  write_model_file(path, fitted_model());
  const std::vector<std::byte> written = read_file_bytes(path);
  std::filesystem::remove(path);
  const std::array<std::byte, 5> collection{std::byte{'G'}, std::byte{'C'}, std::byte{'O'},
                                            std::byte{'L'}, std::byte{1}};
  const auto heap = std::search(written.begin(), written.end(), collection.begin(), collection.end());
  ASSERT_NE(heap, written.end());
  auto u64 = [](auto at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(at[i]);
    return v;
  };
  // Walk the collection (16-byte header; objects: 2-byte index, 2 + 4 bytes, 8-byte size,
  // data padded to 8) to its free-space object, index 0.
  const auto end = heap + static_cast<std::ptrdiff_t>(u64(heap + 8));
  auto object = heap + 16;
  auto first_object = object;
  while (object + 16 <= end && (object[0] != std::byte{0} || object[1] != std::byte{0}))
    object += static_cast<std::ptrdiff_t>(16 + (u64(object + 8) + 7) / 8 * 8);
  ASSERT_LT(object + 16, end) << "the collection has no free-space object to corrupt";
  const auto offset = [&](auto at) { return static_cast<std::size_t>(at - written.begin()); };
  {
    std::vector<std::byte> image = written;
    std::fill_n(image.begin() + static_cast<std::ptrdiff_t>(offset(object) + 8), 8, std::byte{0});
    expect_invalid(image, path, "corrupt HDF5 global heap");
  }
  {
    std::vector<std::byte> image = written;
    image[offset(first_object) + 13] = std::byte{1};  // size + 2^40
    expect_invalid(image, path, "corrupt HDF5 global heap");
  }
}

// HDF5 1.10 trusts an attribute message's name, datatype and dataspace sizes and copies the
// value from beyond the message (SIGSEGV); fuzz_model_file found it. The loader checks the
// object header's attribute messages first.
TEST(ModelFile, RejectsAttributeMessagesThatOverrunTheirHeader) {
  h5::silence_errors();
  const std::string path = temp_file("-attribute.h5");
  write_model_file(path, fitted_model());
  std::vector<std::byte> image = read_file_bytes(path);
  std::filesystem::remove(path);
  // A version 1 attribute message: version, reserved, then the name, datatype and dataspace
  // sizes (2 bytes each), then the name.
  const std::string name = "feature_names";
  const auto* bytes = reinterpret_cast<const char*>(image.data());
  const auto at = std::string_view(bytes, image.size()).find(name + '\0');
  ASSERT_NE(at, std::string_view::npos);
  ASSERT_EQ(std::to_integer<int>(image[at - 8]), 1);  // the message's version
  image[at - 2] = std::byte{0xff};  // dataspace size: 65535 bytes
  image[at - 1] = std::byte{0xff};
  expect_invalid(image, path, "corrupt object header");
}

TEST(ModelFile, RejectsFilesThatAreNotHdf5) {
  std::vector<std::byte> junk(100, std::byte{7});
  EXPECT_THROW(read_model_file(junk, "junk.h5"), DataError);
  EXPECT_THROW(read_file_bytes("/nonexistent/model.h5"), IoError);
  EXPECT_THROW(read_file_bytes(std::filesystem::temp_directory_path().string()), IoError);
}

}  // namespace
}  // namespace hpcad
