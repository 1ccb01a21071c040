// Model files are untrusted input: a file may be truncated, bit-flipped or crafted. Reading
// therefore runs in three steps. (1) Read the content scoring depends on into plain values,
// with every declared size bounded by the image before anything is allocated and group
// nesting capped. (2) Verify the content checksum over exactly those values. (3) Validate
// hyperparameters and build the steps and the detector, whose load_state checks the state's
// structure. Nothing is used before it has been checked.
#include "hpcad/io/model_file.hpp"

#include <fmt/format.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <type_traits>

#include "hpcad/core/error.hpp"
#include "hpcad/core/sha256.hpp"
#include "hpcad/io/hdf5.hpp"

namespace hpcad {
namespace {

constexpr const char* kTransformsGroup = "transforms";
/// Real states nest a level or two (ensemble members, pipeline steps); the cap stops a
/// crafted file, or a hard link to an ancestor group (a cycle), from recursing without end.
constexpr int kMaxStateDepth = 16;

/// Everything in a model file that scoring depends on, as stored: the content checksum
/// covers exactly this, so whatever is verified is what gets used.
struct StepContent {
  std::string type;
  ParamSet params;
  ModelState state;
};
struct ModelContent {
  std::string detector;
  Schema input_schema;
  ParamSet params;
  ModelState state;
  std::vector<StepContent> steps;
};

/// SHA-256 of a canonical serialisation of ModelContent, independent of HDF5's layout (which
/// the library may change between versions): every value tagged with its kind, strings and
/// arrays prefixed by their length, integers and doubles (bit patterns) as 8 little-endian
/// bytes, maps in name order.
class ContentHash {
 public:
  std::string operator()(const ModelContent& content) {
    add(content.detector);
    add(content.input_schema.n_features);
    add(content.input_schema.feature_names);
    add(content.params);
    add(content.state);
    add(static_cast<std::int64_t>(content.steps.size()));
    for (const StepContent& step : content.steps) {
      add(step.type);
      add(step.params);
      add(step.state);
    }
    return sha_.hex_digest();
  }

 private:
  void add_word(std::uint64_t bits) {
    std::byte bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::byte>(bits >> (8 * i));
    sha_.update(bytes);
  }
  void add_tag(char tag) { sha_.update(std::string_view(&tag, 1)); }
  void add(std::int64_t v) { add_word(static_cast<std::uint64_t>(v)); }
  void add(double v) { add_word(std::bit_cast<std::uint64_t>(v)); }
  void add(bool v) { add_tag(v ? '1' : '0'); }
  void add(const std::string& text) {
    add(static_cast<std::int64_t>(text.size()));
    sha_.update(text);
  }
  template <typename T>
  void add(const std::vector<T>& values) {
    add(static_cast<std::int64_t>(values.size()));
    if constexpr ((std::is_same_v<T, double> ||
                   std::is_same_v<T, std::int64_t>)&&std::endian::native == std::endian::little) {
      sha_.update(std::as_bytes(std::span(values)));  // already the canonical bytes
    } else {
      for (const T& v : values) add(v);
    }
  }
  void add(const ParamValue& value) {
    add_tag(static_cast<char>('a' + value.index()));
    std::visit([this](const auto& v) { add(v); }, value);
  }
  void add(const ParamSet& params) {
    add(static_cast<std::int64_t>(params.values().size()));
    for (const auto& [name, value] : params.values()) {
      add(name);
      add(value);
    }
  }
  template <typename T>
  void add_arrays(char tag, const std::map<std::string, T>& arrays) {
    add_tag(tag);
    add(static_cast<std::int64_t>(arrays.size()));
    for (const auto& [name, values] : arrays) {
      add(name);
      add(values);
    }
  }
  void add(const ModelState& state) {
    add_arrays('R', state.reals);
    add_arrays('I', state.integers);
    add_arrays('C', state.children);
  }

  Sha256 sha_;
};

ModelContent content_of(const Model& model) {
  ModelContent content{model.detector->type(),
                       model.input_schema,
                       model.detector->params(),
                       model.detector->save_state(),
                       {}};
  for (const auto& step : model.transforms)
    content.steps.push_back({step->type(), step->params(), step->save_state()});
  return content;
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
    h5::Handle list = h5::create_group(group, name, context);
    for (std::size_t i = 0; i < tables.size(); ++i) {
      h5::Handle table = h5::create_group(list.id(), std::to_string(i), context + "/" + name);
      write_params(table.id(), tables[i], context + "/" + name + "/" + std::to_string(i));
    }
  }
};

void write_params(hid_t group, const ParamSet& params, const std::string& context) {
  for (const auto& [name, value] : params.values()) std::visit(Write{group, name, context}, value);
}

void write_state(hid_t group, const ModelState& state, const std::string& context) {
  for (const auto& [name, values] : state.reals) h5::write_vector(group, name, values);
  for (const auto& [name, values] : state.integers) h5::write_vector(group, name, values);
  for (const auto& [name, child] : state.children) {
    h5::Handle sub = h5::create_group(group, name, context);
    write_state(sub.id(), child, context + "/" + name);
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

void check_params(const ParamSet& params, const std::vector<ParamSpec>& specs,
                  const std::string& context) {
  for (const ParamSpec& spec : specs) {
    const ParamValue& value = params.values().at(spec.name);
    if (const std::string problem = spec.check(value); !problem.empty())
      throw DataError(
          fmt::format("{}: {} = {}: {}", context, spec.name, to_string(value), problem));
  }
}

/// Reads the content of one model file image (step 1 above). Links must be hard links: an
/// external or soft link would make the loader open other files or chase names.
class ContentReader {
 public:
  ContentReader(hid_t root, std::size_t image_bytes, const std::string& path)
      : root_(root), budget_(static_cast<Index>(image_bytes)), path_(path) {}

  ModelContent read(const std::vector<ParamSpec>& detector_specs) {
    ModelContent content;
    content.input_schema = read_input_schema();
    read_steps(content);
    h5::Handle params = open_group(root_, "params", path_ + ":");
    content.params = read_params(params.id(), detector_specs, path_ + ":/params");
    h5::Handle state = open_group(root_, "state", path_ + ":");
    content.state = read_state(state.id(), path_ + ":/state", 0);
    return content;
  }

  /// The registry entries of the steps read, in order.
  const std::vector<const TransformInfo*>& step_infos() const { return step_infos_; }

 private:
  void require_hard_link(hid_t parent, const std::string& name, const std::string& context) {
    H5L_info_t info;
    h5::check(H5Lget_info(parent, name.c_str(), &info, H5P_DEFAULT), "H5Lget_info",
              context + "/" + name);
    if (info.type != H5L_TYPE_HARD)
      throw DataError(fmt::format("{}/{}: soft and external links are not allowed in a model file",
                                  context, name));
  }

  h5::Handle open_group(hid_t parent, const std::string& name, const std::string& context) {
    if (!h5::exists(parent, name))
      throw DataError(
          fmt::format("{}: the model file lacks the group {}/{}", context, context, name));
    require_hard_link(parent, name, context);
    return h5::own(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "H5Gopen2",
                   context + "/" + name);
  }

  /// A 1-D array, charged to the budget: all arrays together cannot declare more bytes than
  /// the image has, which no honest writer exceeds (model files are not compressed).
  template <typename T>
  std::vector<T> read_array(hid_t group, const std::string& name, const std::string& context) {
    if (h5::exists(group, name)) require_hard_link(group, name, context);
    std::vector<T> values =
        h5::read_vector<T>(group, name, context, budget_ / static_cast<Index>(sizeof(T)));
    budget_ -= static_cast<Index>(values.size() * sizeof(T));
    return values;
  }

  static herr_t collect_link(hid_t, const char* name, const H5L_info_t* info, void* out) {
    if (info->type != H5L_TYPE_HARD) return 1;  // stops the iteration; reported by the caller
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  }

  std::vector<std::string> member_names(hid_t group, const std::string& context) {
    std::vector<std::string> names;
    if (h5::check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names),
                  "H5Literate", context) > 0)
      throw DataError(
          fmt::format("{}: soft and external links are not allowed in a model file", context));
    return names;
  }

  Schema read_input_schema() {
    Schema schema;
    const auto n_features = h5::read_int_attribute(root_, "n_features");
    if (!n_features || *n_features < 1 || *n_features > (std::int64_t{1} << 24))
      throw DataError(fmt::format("{}: missing or invalid 'n_features' attribute", path_));
    schema.n_features = *n_features;
    if (auto names = h5::read_strings_attribute(root_, "feature_names")) {
      if (static_cast<Index>(names->size()) != schema.n_features)
        throw DataError(fmt::format("{}: {} feature names for {} features", path_, names->size(),
                                    schema.n_features));
      schema.feature_names = *names;
    }
    return schema;
  }

  void read_steps(ModelContent& content) {
    if (!h5::exists(root_, kTransformsGroup)) return;
    const std::string context = path_ + ":/" + kTransformsGroup;
    h5::Handle group = open_group(root_, kTransformsGroup, path_ + ":");
    for (std::size_t i = 0; h5::exists(group.id(), std::to_string(i)); ++i) {
      const std::string where = fmt::format("{}/{}", context, i);
      h5::Handle step = open_group(group.id(), std::to_string(i), context);
      StepContent& out = content.steps.emplace_back();
      out.type = required_string(step.id(), "type", where);
      step_infos_.push_back(&find_in_file(find_transform, out.type, where));
      h5::Handle params = open_group(step.id(), "params", where);
      out.params = read_params(params.id(), step_infos_.back()->params, where + "/params");
      h5::Handle state = open_group(step.id(), "state", where);
      out.state = read_state(state.id(), where + "/state", 0);
    }
  }

  /// The values named by `specs`, unchecked (they are checked after the checksum).
  ParamSet read_params(hid_t group, const std::vector<ParamSpec>& specs,
                       const std::string& context) {
    ParamSet params(specs);
    for (const ParamSpec& spec : specs) {
      std::optional<ParamValue> value = read_param(group, spec, context);
      if (!value)
        throw DataError(fmt::format("{} lacks the hyperparameter '{}'", context, spec.name));
      params.set(spec.name, std::move(*value));
    }
    return params;
  }

  /// One value of kind spec.kind, or nullopt when absent.
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
      case ParamKind::kRealOrString:
        // Written as whichever it holds: a real attribute or a string one.
        if (auto v = h5::read_real_attribute(group, name)) return *v;
        return h5::read_string_attribute(group, name);
      case ParamKind::kBool:
        if (auto v = h5::read_int_attribute(group, name)) return *v != 0;
        return std::nullopt;
      case ParamKind::kStringList:
        return h5::read_strings_attribute(group, name);
      case ParamKind::kIntegerList:
        if (!h5::exists(group, name)) return std::nullopt;
        return read_array<std::int64_t>(group, name, context);
      case ParamKind::kRealList:
        if (!h5::exists(group, name)) return std::nullopt;
        return read_array<double>(group, name, context);
      case ParamKind::kTableList: {
        if (!h5::exists(group, name)) return std::nullopt;
        h5::Handle list = open_group(group, name, context);
        std::vector<ParamSet> tables;
        for (std::size_t i = 0; h5::exists(list.id(), std::to_string(i)); ++i) {
          const std::string where = fmt::format("{}/{}/{}", context, name, i);
          h5::Handle table = open_group(list.id(), std::to_string(i), context + "/" + name);
          // A typed table's keys depend on its type (an ensemble member's detector).
          const std::string type =
              spec.variants.empty() ? "" : required_string(table.id(), kTableTypeKey, where);
          const auto fields = spec.table_fields(type);
          if (!fields)
            throw DataError(fmt::format("{}: {} = \"{}\" is not a known type", where,
                                        kTableTypeKey, type));
          tables.push_back(read_params(table.id(), *fields, where));
        }
        return tables;
      }
    }
    return std::nullopt;
  }

  ModelState read_state(hid_t group, const std::string& context, int depth) {
    if (depth > kMaxStateDepth)
      throw DataError(
          fmt::format("{}: state groups nested more than {} deep", context, kMaxStateDepth));
    ModelState state;
    state.where = context;
    for (const std::string& name : member_names(group, context)) {
      H5O_info_t info;
      h5::check(H5Oget_info_by_name2(group, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
                "H5Oget_info_by_name2", context + "/" + name);
      if (info.type == H5O_TYPE_GROUP) {
        h5::Handle sub = open_group(group, name, context);
        state.children[name] = read_state(sub.id(), context + "/" + name, depth + 1);
        continue;
      }
      if (info.type != H5O_TYPE_DATASET)
        throw DataError(fmt::format("{}/{}: neither a state array nor a group", context, name));
      h5::Handle dataset = h5::own(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2",
                                   context + "/" + name);
      h5::Handle type =
          h5::own(H5Dget_type(dataset.id()), H5Tclose, "H5Dget_type", context + "/" + name);
      const H5T_class_t cls = H5Tget_class(type.id());
      if (cls == H5T_FLOAT)
        state.reals[name] = read_array<double>(group, name, context);
      else if (cls == H5T_INTEGER)
        state.integers[name] = read_array<std::int64_t>(group, name, context);
      else
        throw DataError(fmt::format("{}/{}: state arrays must be float64 or int64", context, name));
    }
    return state;
  }

  hid_t root_;
  Index budget_;  ///< bytes of arrays still allowed
  const std::string& path_;
  std::vector<const TransformInfo*> step_infos_;
};

/// Step 2: the stored checksum must match the content read; files older than format
/// version 3 have none (see model_file.hpp).
void verify_checksum(hid_t root, std::int64_t version, const ModelContent& content,
                     const std::string& path) {
  const auto stored = h5::read_string_attribute(root, kContentSha256);
  if (version < kFirstChecksummedVersion && !stored) return;
  if (!stored)
    throw DataError(fmt::format("{}: format version {} requires the '{}' attribute", path, version,
                                kContentSha256));
  if (*stored != ContentHash()(content))
    throw DataError(
        fmt::format("{}: content checksum mismatch: the file is corrupt or was modified", path));
}

/// Step 3: hyperparameters checked, then each step and the detector built and loaded.
Model build_model(ModelContent& content, const std::vector<const TransformInfo*>& step_infos,
                  const DetectorInfo& info, const std::string& path) {
  Model model;
  model.input_schema = content.input_schema;
  Schema schema = model.input_schema;
  for (std::size_t i = 0; i < content.steps.size(); ++i) {
    const std::string where = fmt::format("{}:/{}/{}", path, kTransformsGroup, i);
    check_params(content.steps[i].params, step_infos[i]->params, where + "/params");
    auto transform = step_infos[i]->make(content.steps[i].params);
    transform->load_state(schema, content.steps[i].state);
    schema = transform->output_schema(schema);
    model.transforms.push_back(std::move(transform));
  }
  check_params(content.params, info.params, path + ":/params");
  try {
    model.detector = info.make(content.params);
  } catch (const ConfigError& e) {
    throw DataError(fmt::format("{}:/params: {}", path, e.what()));
  }
  model.detector->load_state(schema.n_features, content.state);
  return model;
}

Model read_model(std::vector<std::byte>& image, const std::string& path) {
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
  const std::string type = required_string(root, "detector", path);
  const DetectorInfo& info = find_in_file(find_detector, type, path);
  ContentReader reader(root, image.size(), path);
  ModelContent content = reader.read(info.params);
  content.detector = type;
  verify_checksum(root, *version, content, path);
  Model model = build_model(content, reader.step_infos(), info, path);
  model.training = read_provenance(root);
  return model;
}

}  // namespace

void write_model_file(const std::string& path, const Model& model) {
  const ModelContent content = content_of(model);
  h5::File file = h5::File::create_local(path);
  const hid_t root = file.id();
  h5::write_attribute(root, "format", std::string(kModelFormat));
  h5::write_attribute(root, "format_version", kModelFormatVersion);
  h5::write_attribute(root, "detector", content.detector);
  h5::write_attribute(root, kContentSha256, ContentHash()(content));
  h5::write_attribute(root, "n_features",
                      static_cast<std::int64_t>(content.input_schema.n_features));
  if (!content.input_schema.feature_names.empty())
    h5::write_attribute(root, "feature_names", content.input_schema.feature_names);
  write_provenance(root, model.training);
  {
    h5::Handle params = h5::create_group(root, "params", path + ":");
    write_params(params.id(), content.params, path + ":/params");
    h5::Handle state = h5::create_group(root, "state", path + ":");
    write_state(state.id(), content.state, path + ":/state");
    h5::Handle steps = h5::create_group(root, kTransformsGroup, path + ":");
    for (std::size_t i = 0; i < content.steps.size(); ++i) {
      const StepContent& step = content.steps[i];
      const std::string where = fmt::format("{}:/{}/{}", path, kTransformsGroup, i);
      h5::Handle group = h5::create_group(steps.id(), std::to_string(i), where);
      h5::write_attribute(group.id(), "type", step.type);
      h5::Handle step_params = h5::create_group(group.id(), "params", where);
      write_params(step_params.id(), step.params, where + "/params");
      h5::Handle step_state = h5::create_group(group.id(), "state", where);
      write_state(step_state.id(), step.state, where + "/state");
    }
  }
  file.close();
}

Model read_model_file(std::vector<std::byte>& image, const std::string& path) {
  // The image is already in memory, so an HDF5 failure while reading it is corrupt content,
  // reported as a DataError naming the file like every other problem found in it.
  try {
    return read_model(image, path);
  } catch (const IoError& e) {
    throw DataError(fmt::format("{}: corrupt model file: {}", path, e.what()));
  } catch (const DataError& e) {
    if (std::string_view(e.what()).starts_with(path)) throw;
    throw DataError(fmt::format("{}: {}", path, e.what()));
  }
}

std::vector<std::byte> read_file_bytes(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw IoError(fmt::format("{}: is a directory, not a model file", path));
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(fmt::format("{}: cannot open for reading", path));
  const std::streamsize size = in.tellg();
  if (size < 0) throw IoError(fmt::format("{}: cannot determine the file's size", path));
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw IoError(fmt::format("{}: read failed", path));
  return bytes;
}

}  // namespace hpcad
