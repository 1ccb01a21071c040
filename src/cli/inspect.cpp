#include "hpcad/cli/inspect.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ostream>

#include "hpcad/core/error.hpp"
#include "hpcad/core/sha256.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/model_file.hpp"
#include "hpcad/io/score_writer.hpp"

namespace hpcad {
namespace {

void print_params(const ParamSet& params, const std::string& indent, std::ostream& out) {
  for (const auto& [name, value] : params.values())
    out << fmt::format("{}{:<14}{}\n", indent, name, to_string(value));
}

void print_state(const ModelState& state, const std::string& prefix, std::ostream& out) {
  for (const auto& [name, values] : state.integers)
    out << fmt::format("  state {:<24} {} int64\n", prefix + name, values.size());
  for (const auto& [name, values] : state.reals)
    out << fmt::format("  state {:<24} {} float64\n", prefix + name, values.size());
  for (const auto& [name, child] : state.children) print_state(child, prefix + name + "/", out);
}

/// What the file says about its content checksum, once read_model_file has verified it.
std::string checksum_note(hid_t root, std::int64_t version) {
  if (auto stored = h5::read_string_attribute(root, kContentSha256)) return *stored + " (verified)";
  return fmt::format("none (format version {} predates checksums)", version);
}

void inspect_model(const std::string& path, std::ostream& out) {
  std::vector<std::byte> image = read_file_bytes(path);
  Sha256 hash;
  hash.update(image);
  const Model model = read_model_file(image, path);
  h5::File file = h5::File::open_image(image, path);
  const std::int64_t version = h5::read_int_attribute(file.id(), "format_version").value_or(0);
  const Schema features = model.feature_schema();
  const Provenance& p = model.training;
  out << fmt::format("hpcad model file {}\n", path);
  out << fmt::format("  format          {} version {}\n", kModelFormat, version);
  out << fmt::format("  sha256          {}\n", hash.hex_digest());
  out << fmt::format("  content sha256  {}\n", checksum_note(file.id(), version));
  out << fmt::format("  input columns   {}{}\n", model.input_schema.n_features,
                     model.input_schema.feature_names.empty()
                         ? ""
                         : fmt::format(" ({})", fmt::join(model.input_schema.feature_names, ", ")));
  for (std::size_t i = 0; i < model.transforms.size(); ++i) {
    out << fmt::format("  step {}          {}\n", i, model.transforms[i]->type());
    print_params(model.transforms[i]->params(), "    ", out);
  }
  out << fmt::format("  features        {}{}\n", features.n_features,
                     features.feature_names.empty()
                         ? ""
                         : fmt::format(" ({})", fmt::join(features.feature_names, ", ")));
  out << fmt::format("  detector        {}\n", model.detector->type());
  print_params(model.detector->params(), "    ", out);
  print_state(model.detector->save_state(), "", out);
  out << fmt::format("  trained on      {} ({} rows, {} ranks)\n", p.input_path, p.rows, p.ranks);
  out << fmt::format("  created         {} by hpcad {}\n", p.created, p.hpcad_version);
  out << fmt::format("  config sha256   {}\n", p.config_sha256);
}

void inspect_scores(const std::string& path, hid_t root, std::ostream& out) {
  out << fmt::format("hpcad scores file {}\n", path);
  for (const char* key : {"rows", "anomalies"})
    out << fmt::format("  {:<18}{}\n", key, h5::read_int_attribute(root, key).value_or(-1));
  for (const char* key : {"threshold", "contamination", "achieved_fraction"})
    out << fmt::format("  {:<18}{}\n", key,
                       h5::read_real_attribute(root, key).value_or(std::nan("")));
  for (const char* key : {"detector", "input_path", "model_sha256", "hpcad_version", "created"})
    out << fmt::format("  {:<18}{}\n", key, h5::read_string_attribute(root, key).value_or(""));
  out << fmt::format("  {:<18}{}\n", "ranks", h5::read_int_attribute(root, "ranks").value_or(-1));
}

}  // namespace

void inspect_file(const std::string& path, std::ostream& out) {
  std::string format;
  // Any DataError from here on is about the file's content; the file opened as HDF5.
  try {
    h5::File file = h5::File::open_local(path);
    format = h5::read_string_attribute(file.id(), "format").value_or("");
    if (format == kScoresFormat) return inspect_scores(path, file.id(), out);
    if (format == kModelFormat) return inspect_model(path, out);
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: invalid: {}", path, e.what()));
  }
  throw DataError(
      fmt::format("{}: neither an hpcad model nor an hpcad scores file (format attribute \"{}\")",
                  path, format));
}

}  // namespace hpcad
