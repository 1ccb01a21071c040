// libFuzzer harness: the model-file loader (read_model_file) on an in-memory HDF5 image, as
// `hpcad score` and `hpcad inspect` load a model broadcast by rank 0. A model the loader
// accepts is promised to be safe to score, so the harness then scores a few rows through
// every transform and the detector: an accepted model that reads out of bounds is a crash.
// Exceptions other than DataError / IoError escape and are reported as crashes, and so is
// an HDF5 object (file, group, dataset, attribute, datatype) left open afterwards. (Leaks
// inside HDF5 itself are suppressed in lsan.supp.)
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/model_file.hpp"

namespace {

constexpr hpcad::Index kRows = 4;

/// Rows of values taken from the input bytes (so the fuzzer steers them too), then scored.
void score_rows(const hpcad::Model& model, const std::uint8_t* data, std::size_t size) {
  hpcad::Schema schema = model.input_schema;
  std::vector<double> values(static_cast<std::size_t>(kRows * schema.n_features));
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(data[i % size]) - 128.0;
  for (const auto& step : model.transforms) {
    const hpcad::RowBlock block{0, kRows, schema.n_features, values, {}};
    std::vector<double> out;
    step->apply(block, {}, out);
    schema = step->output_schema(schema);
    if (out.size() != static_cast<std::size_t>(kRows * schema.n_features)) __builtin_trap();
    values = std::move(out);
  }
  if (schema.n_features != model.detector->n_features()) __builtin_trap();
  const hpcad::RowBlock block{0, kRows, schema.n_features, values, {}};
  std::vector<double> scores(kRows);
  model.detector->score(block, scores);
}

}  // namespace

// As hpcad's main does: HDF5's own error printing would flood stderr; hpcad reports errors.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hpcad::h5::silence_errors();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> image(size);
  std::memcpy(image.data(), data, size);
  try {
    const hpcad::Model model = hpcad::read_model_file(image, "fuzz-model.h5");
    score_rows(model, data, size);
  } catch (const hpcad::DataError&) {
  } catch (const hpcad::IoError&) {
  }
  if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) __builtin_trap();  // a handle leaked
  return 0;
}
