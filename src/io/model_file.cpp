#include "hpcad/io/model_file.hpp"

#include <fmt/format.h>

#include <fstream>

#include "hpcad/core/error.hpp"
#include "hpcad/io/hdf5.hpp"

namespace hpcad {
namespace {

constexpr const char* kTransformsGroup = "transforms";

h5::Handle create_group(hid_t parent, const std::string& name, const std::string& context) {
  return h5::own(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                 "H5Gcreate2", context + "/" + name);
}

h5::Handle open_group(hid_t parent, const std::string& name, const std::string& context) {
  if (!h5::exists(parent, name))
    throw DataError(
        fmt::format("{}: the model file lacks the group {}/{}", context, context, name));
  return h5::own(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "H5Gopen2",
                 context + "/" + name);
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

std::vector<std::string> member_names(hid_t group, const std::string& context) {
  std::vector<std::string> names;
  h5::check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names),
            "H5Literate", context);
  return names;
}

void write_params(hid_t group, const ParamSet& params, const std::string& context);

/// Writes one hyperparameter by kind: scalars and string lists as attributes, numeric lists
/// as 1-D datasets, table lists as numbered subgroups.
struct Write {
  hid_t group;
  const std::string& name;
  const std::string& context;
  void operator()(std::int64_t v) const { h5::write_attribute(group, name, v); }
  void operator()(double v) const { h5::write_attribute(group, name, v); }
  void operator()(const std::string& v) const { h5::write_attribute(group, name, v); }
  void operator()(bool v) const { h5::write_attribute(group, name, std::int64_t{v}); }
  void operator()(const std::vector<std::string>& v) const { h5::write_attribute(group, name, v); }
  template <typename T>
  void operator()(const std::vector<T>& v) const {
    h5::write_vector(group, name, v);
  }
  void operator()(const std::vector<ParamSet>& tables) const {
    h5::Handle list = create_group(group, name, context);
    for (std::size_t i = 0; i < tables.size(); ++i) {
      h5::Handle table = create_group(list.id(), std::to_string(i), context + "/" + name);
      write_params(table.id(), tables[i], context + "/" + name + "/" + std::to_string(i));
    }
  }
};

void write_params(hid_t group, const ParamSet& params, const std::string& context) {
  for (const auto& [name, value] : params.values()) std::visit(Write{group, name, context}, value);
}

/// Reads one value of kind spec.kind, or nullopt when absent.
std::optional<ParamValue> read_param(hid_t group, const ParamSpec& spec,
                                     const std::string& context);

ParamSet read_params(hid_t group, const std::vector<ParamSpec>& specs, const std::string& context) {
  ParamSet params(specs);
  for (const ParamSpec& spec : specs) {
    const std::optional<ParamValue> value = read_param(group, spec, context);
    if (!value)
      throw DataError(fmt::format("{} lacks the hyperparameter '{}'", context, spec.name));
    if (const std::string problem = spec.check(*value); !problem.empty())
      throw DataError(
          fmt::format("{}: {} = {}: {}", context, spec.name, to_string(*value), problem));
    params.set(spec.name, *value);
  }
  return params;
}

std::optional<ParamValue> read_param(hid_t group, const ParamSpec& spec,
                                     const std::string& context) {
  const std::string& name = spec.name;
  switch (spec.kind) {
    case ParamKind::kInteger:
      return h5::read_int_attribute(group, name);
    case ParamKind::kReal:
      return h5::read_real_attribute(group, name);
    case ParamKind::kString:
      return h5::read_string_attribute(group, name);
    case ParamKind::kBool:
      if (auto v = h5::read_int_attribute(group, name)) return *v != 0;
      return std::nullopt;
    case ParamKind::kStringList:
      return h5::read_strings_attribute(group, name);
    case ParamKind::kIntegerList:
      if (!h5::exists(group, name)) return std::nullopt;
      return h5::read_vector<std::int64_t>(group, name, context);
    case ParamKind::kRealList:
      if (!h5::exists(group, name)) return std::nullopt;
      return h5::read_vector<double>(group, name, context);
    case ParamKind::kTableList: {
      if (!h5::exists(group, name)) return std::nullopt;
      h5::Handle list = open_group(group, name, context);
      std::vector<ParamSet> tables;
      for (std::size_t i = 0; h5::exists(list.id(), std::to_string(i)); ++i) {
        const std::string where = fmt::format("{}/{}/{}", context, name, i);
        h5::Handle table = open_group(list.id(), std::to_string(i), context + "/" + name);
        tables.push_back(read_params(table.id(), spec.fields, where));
      }
      return tables;
    }
  }
  return std::nullopt;
}

void write_state(hid_t group, const ModelState& state, const std::string& context) {
  for (const auto& [name, values] : state.reals) h5::write_vector(group, name, values);
  for (const auto& [name, values] : state.integers) h5::write_vector(group, name, values);
  for (const auto& [name, child] : state.children) {
    h5::Handle sub = create_group(group, name, context);
    write_state(sub.id(), child, context + "/" + name);
  }
}

ModelState read_state(hid_t group, const std::string& context) {
  ModelState state;
  state.where = context;
  for (const std::string& name : member_names(group, context)) {
    H5O_info_t info;
    h5::check(H5Oget_info_by_name2(group, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
              "H5Oget_info_by_name2", context + "/" + name);
    if (info.type == H5O_TYPE_GROUP) {
      h5::Handle sub = open_group(group, name, context);
      state.children[name] = read_state(sub.id(), context + "/" + name);
      continue;
    }
    h5::Handle dataset = h5::own(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2",
                                 context + "/" + name);
    h5::Handle type =
        h5::own(H5Dget_type(dataset.id()), H5Tclose, "H5Dget_type", context + "/" + name);
    const H5T_class_t cls = H5Tget_class(type.id());
    if (cls == H5T_FLOAT)
      state.reals[name] = h5::read_vector<double>(group, name, context);
    else if (cls == H5T_INTEGER)
      state.integers[name] = h5::read_vector<std::int64_t>(group, name, context);
    else
      throw DataError(fmt::format("{}/{}: state arrays must be float64 or int64", context, name));
  }
  return state;
}

std::string required_string(hid_t root, const char* name, const std::string& path) {
  auto value = h5::read_string_attribute(root, name);
  if (!value)
    throw DataError(fmt::format("{}: not an hpcad model file (no '{}' attribute)", path, name));
  return *value;
}

/// A registry lookup whose failure is a DataError about the file, not a config error.
template <typename Find>
auto find_in_file(Find find, const std::string& type, const std::string& context)
    -> decltype(find(type)) {
  try {
    return find(type);
  } catch (const ConfigError& e) {
    throw DataError(fmt::format("{}: {}", context, e.what()));
  }
}

void write_provenance(hid_t root, const Provenance& p) {
  h5::write_attribute(root, "input_path", p.input_path);
  h5::write_attribute(root, "training_rows", static_cast<std::int64_t>(p.rows));
  h5::write_attribute(root, "ranks", static_cast<std::int64_t>(p.ranks));
  h5::write_attribute(root, "created", p.created);
  h5::write_attribute(root, "config_sha256", p.config_sha256);
  h5::write_attribute(root, "job_id", p.job_id);
  h5::write_attribute(root, "hpcad_version", p.hpcad_version);
}

Provenance read_provenance(hid_t root) {
  Provenance p;
  p.command = "train";
  p.input_path = h5::read_string_attribute(root, "input_path").value_or("");
  p.rows = h5::read_int_attribute(root, "training_rows").value_or(0);
  p.ranks = static_cast<int>(h5::read_int_attribute(root, "ranks").value_or(0));
  p.created = h5::read_string_attribute(root, "created").value_or("");
  p.config_sha256 = h5::read_string_attribute(root, "config_sha256").value_or("");
  p.job_id = h5::read_string_attribute(root, "job_id").value_or("");
  p.hpcad_version = h5::read_string_attribute(root, "hpcad_version").value_or("");
  return p;
}

Schema read_input_schema(hid_t root, const std::string& path) {
  Schema schema;
  const auto n_features = h5::read_int_attribute(root, "n_features");
  if (!n_features || *n_features < 1 || *n_features > (std::int64_t{1} << 24))
    throw DataError(fmt::format("{}: missing or invalid 'n_features' attribute", path));
  schema.n_features = *n_features;
  if (auto names = h5::read_strings_attribute(root, "feature_names")) {
    if (static_cast<Index>(names->size()) != schema.n_features)
      throw DataError(fmt::format("{}: {} feature names for {} features", path, names->size(),
                                  schema.n_features));
    schema.feature_names = *names;
  }
  return schema;
}

/// Reads and loads the feature steps in order; returns the detector's input schema.
Schema read_transforms(hid_t root, const std::string& path, Model& model) {
  Schema schema = model.input_schema;
  if (!h5::exists(root, kTransformsGroup)) return schema;
  const std::string context = path + ":/" + kTransformsGroup;
  h5::Handle group = open_group(root, kTransformsGroup, path + ":");
  for (std::size_t i = 0; h5::exists(group.id(), std::to_string(i)); ++i) {
    const std::string where = fmt::format("{}/{}", context, i);
    h5::Handle step = open_group(group.id(), std::to_string(i), context);
    const std::string type = required_string(step.id(), "type", where);
    const TransformInfo& info = find_in_file(find_transform, type, where);
    h5::Handle params = open_group(step.id(), "params", where);
    auto transform = info.make(read_params(params.id(), info.params, where + "/params"));
    h5::Handle state = open_group(step.id(), "state", where);
    transform->load_state(schema, read_state(state.id(), where + "/state"));
    schema = transform->output_schema(schema);
    model.transforms.push_back(std::move(transform));
  }
  return schema;
}

}  // namespace

void write_model_file(const std::string& path, const Model& model) {
  h5::File file = h5::File::create_local(path);
  const hid_t root = file.id();
  h5::write_attribute(root, "format", std::string(kModelFormat));
  h5::write_attribute(root, "format_version", kModelFormatVersion);
  h5::write_attribute(root, "detector", model.detector->type());
  h5::write_attribute(root, "n_features", static_cast<std::int64_t>(model.input_schema.n_features));
  if (!model.input_schema.feature_names.empty())
    h5::write_attribute(root, "feature_names", model.input_schema.feature_names);
  write_provenance(root, model.training);
  {
    h5::Handle params = create_group(root, "params", path + ":");
    write_params(params.id(), model.detector->params(), path + ":/params");
    h5::Handle state = create_group(root, "state", path + ":");
    write_state(state.id(), model.detector->save_state(), path + ":/state");
    h5::Handle steps = create_group(root, kTransformsGroup, path + ":");
    for (std::size_t i = 0; i < model.transforms.size(); ++i) {
      const Transform& transform = *model.transforms[i];
      const std::string where = fmt::format("{}:/{}/{}", path, kTransformsGroup, i);
      h5::Handle step = create_group(steps.id(), std::to_string(i), where);
      h5::write_attribute(step.id(), "type", transform.type());
      h5::Handle step_params = create_group(step.id(), "params", where);
      write_params(step_params.id(), transform.params(), where + "/params");
      h5::Handle step_state = create_group(step.id(), "state", where);
      write_state(step_state.id(), transform.save_state(), where + "/state");
    }
  }
  file.close();
}

Model read_model_file(std::vector<std::byte>& image, const std::string& path) {
  h5::File file = h5::File::open_image(image, path);
  const hid_t root = file.id();
  const std::string format = required_string(root, "format", path);
  if (format != kModelFormat)
    throw DataError(fmt::format("{}: not an hpcad model file (format is \"{}\", expected \"{}\")",
                                path, format, kModelFormat));
  const auto version = h5::read_int_attribute(root, "format_version");
  if (!version || *version < 1 || *version > kModelFormatVersion)
    throw DataError(fmt::format(
        "{}: model format version {} is not supported (this hpcad reads versions 1 to {})", path,
        version ? fmt::format("{}", *version) : "missing", kModelFormatVersion));
  Model model;
  const std::string type = required_string(root, "detector", path);
  const DetectorInfo& info = find_in_file(find_detector, type, path);
  model.input_schema = read_input_schema(root, path);
  model.training = read_provenance(root);
  const Schema features = read_transforms(root, path, model);
  h5::Handle params = open_group(root, "params", path + ":");
  model.detector = info.make(read_params(params.id(), info.params, path + ":/params"));
  h5::Handle state = open_group(root, "state", path + ":");
  model.detector->load_state(features.n_features, read_state(state.id(), path + ":/state"));
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
