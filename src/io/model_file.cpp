#include "hpcad/io/model_file.hpp"

#include <fmt/format.h>

#include <fstream>

#include "hpcad/core/error.hpp"
#include "hpcad/io/hdf5.hpp"

namespace hpcad {

void write_model_file(const std::string& path, const ModelFile& model) {
  h5::File file = h5::File::create_local(path);
  const hid_t root = file.id();
  h5::write_attribute(root, "format", std::string(kModelFormat));
  h5::write_attribute(root, "format_version", kModelFormatVersion);
  h5::write_attribute(root, "detector", model.detector);
  h5::write_attribute(root, "hpcad_version", std::string(HPCAD_VERSION));
  h5::write_attribute(root, "n_features", static_cast<std::int64_t>(model.n_features));
  if (!model.feature_names.empty()) h5::write_attribute(root, "feature_names", model.feature_names);
  h5::write_attribute(root, "input_path", model.input_path);
  h5::write_attribute(root, "training_rows", static_cast<std::int64_t>(model.training_rows));
  h5::write_attribute(root, "ranks", static_cast<std::int64_t>(model.ranks));
  h5::write_attribute(root, "created", model.created);
  h5::write_attribute(root, "config_sha256", model.config_sha256);

  h5::Handle params = h5::own(H5Gcreate2(root, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              H5Gclose, "H5Gcreate2", path + ": /params");
  for (const auto& [name, value] : model.params.values())
    std::visit([&](const auto& v) { h5::write_attribute(params.id(), name, v); }, value);
  h5::Handle state = h5::own(H5Gcreate2(root, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             H5Gclose, "H5Gcreate2", path + ": /state");
  for (const auto& [name, values] : model.state.reals) h5::write_vector(state.id(), name, values);
  for (const auto& [name, values] : model.state.integers)
    h5::write_vector(state.id(), name, values);
  state.close(path);
  params.close(path);
  file.close();
}

namespace {

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

std::string required_string(hid_t root, const char* name, const std::string& path) {
  auto value = h5::read_string_attribute(root, name);
  if (!value)
    throw DataError(fmt::format("{}: not an hpcad model file (no '{}' attribute)", path, name));
  return *value;
}

}  // namespace

ModelFile read_model_file(std::vector<std::byte>& image, const std::string& path) {
  h5::File file = h5::File::open_image(image, path);
  const hid_t root = file.id();
  ModelFile model;
  const std::string format = required_string(root, "format", path);
  if (format != kModelFormat)
    throw DataError(fmt::format("{}: not an hpcad model file (format is \"{}\", expected \"{}\")",
                                path, format, kModelFormat));
  const auto version = h5::read_int_attribute(root, "format_version");
  if (!version || *version != kModelFormatVersion)
    throw DataError(
        fmt::format("{}: model format version {} is not supported (this hpcad reads version {})",
                    path, version ? fmt::format("{}", *version) : "missing", kModelFormatVersion));
  model.detector = required_string(root, "detector", path);
  const DetectorInfo& info = [&]() -> const DetectorInfo& {
    try {
      return find_detector(model.detector);
    } catch (const ConfigError& e) {
      throw DataError(fmt::format("{}: {}", path, e.what()));
    }
  }();
  const auto n_features = h5::read_int_attribute(root, "n_features");
  if (!n_features || *n_features < 1)
    throw DataError(fmt::format("{}: missing or invalid 'n_features' attribute", path));
  model.n_features = *n_features;
  if (auto names = h5::read_strings_attribute(root, "feature_names")) {
    if (static_cast<Index>(names->size()) != model.n_features)
      throw DataError(fmt::format("{}: {} feature names for {} features", path, names->size(),
                                  model.n_features));
    model.feature_names = *names;
  }
  model.input_path = h5::read_string_attribute(root, "input_path").value_or("");
  model.training_rows = h5::read_int_attribute(root, "training_rows").value_or(0);
  model.ranks = static_cast<int>(h5::read_int_attribute(root, "ranks").value_or(0));
  model.created = h5::read_string_attribute(root, "created").value_or("");
  model.config_sha256 = h5::read_string_attribute(root, "config_sha256").value_or("");

  if (!h5::exists(root, "params") || !h5::exists(root, "state"))
    throw DataError(fmt::format("{}: model file lacks the /params or /state group", path));
  h5::Handle params =
      h5::own(H5Gopen2(root, "params", H5P_DEFAULT), H5Gclose, "H5Gopen2", path + ": /params");
  model.params = ParamSet(info.params);
  for (const ParamSpec& spec : info.params) {
    ParamValue value;
    if (spec.kind == ParamKind::kInteger) {
      auto v = h5::read_int_attribute(params.id(), spec.name);
      if (!v) throw DataError(fmt::format("{}: /params lacks '{}'", path, spec.name));
      value = *v;
    } else if (spec.kind == ParamKind::kReal) {
      auto v = h5::read_real_attribute(params.id(), spec.name);
      if (!v) throw DataError(fmt::format("{}: /params lacks '{}'", path, spec.name));
      value = *v;
    } else {
      auto v = h5::read_string_attribute(params.id(), spec.name);
      if (!v) throw DataError(fmt::format("{}: /params lacks '{}'", path, spec.name));
      value = *v;
    }
    if (const std::string problem = spec.check(value); !problem.empty())
      throw DataError(
          fmt::format("{}: /params {} = {}: {}", path, spec.name, to_string(value), problem));
    model.params.set(spec.name, value);
  }

  h5::Handle state =
      h5::own(H5Gopen2(root, "state", H5P_DEFAULT), H5Gclose, "H5Gopen2", path + ": /state");
  std::vector<std::string> names;
  h5::check(H5Literate(state.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names),
            "H5Literate", path + ": /state");
  for (const std::string& name : names) {
    h5::Handle dataset = h5::own(H5Dopen2(state.id(), name.c_str(), H5P_DEFAULT), H5Dclose,
                                 "H5Dopen2", path + ": /state/" + name);
    h5::Handle type =
        h5::own(H5Dget_type(dataset.id()), H5Tclose, "H5Dget_type", path + ": /state/" + name);
    if (H5Tget_class(type.id()) == H5T_FLOAT)
      model.state.reals[name] = h5::read_vector<double>(state.id(), name, path + ": /state");
    else
      model.state.integers[name] =
          h5::read_vector<std::int64_t>(state.id(), name, path + ": /state");
  }
  return model;
}

std::vector<std::byte> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(fmt::format("{}: cannot open for reading", path));
  const std::streamsize size = in.tellg();
  std::vector<std::byte> bytes(static_cast<std::size_t>(std::max<std::streamsize>(size, 0)));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw IoError(fmt::format("{}: read failed", path));
  return bytes;
}

}  // namespace hpcad
