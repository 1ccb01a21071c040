#include "hpcad/pipeline/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <set>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/detector.hpp"
#include "hpcad/features/transform.hpp"

namespace fs = std::filesystem;

namespace hpcad {
namespace {

constexpr const char* kDefaultDetector = "iforest";

/// A config key: its typed spec (shared with detector and transform hyperparameters) and
/// whether its value is a path resolved against the config file.
struct KeySpec {
  ParamSpec spec;
  bool is_path = false;
  bool no_default = false;  ///< required, or an alternative to another key
  bool own_reader = false;  ///< checked by its own reader, not by its spec (features.steps)
};

KeySpec path_key(const std::string& name, const std::string& default_value, std::string doc) {
  return {ParamSpec::string(name, default_value, {}, std::move(doc)), true, default_value.empty()};
}

using Sections = std::vector<std::pair<std::string, std::vector<KeySpec>>>;

const Sections& fixed_sections() {
  static const Sections sections = {
      {"input",
       {path_key("path", "", "data file, directory or glob"),
        {ParamSpec::string("format", "auto", {"auto", "hdf5", "parquet", "csv"}, "")},
        {ParamSpec::string("dataset", "X", {}, "")},
        {ParamSpec::string("group", "/", {}, "")},
        {ParamSpec::string_list("columns", {}, "")},
        {ParamSpec::string("label", "", {}, "")},
        {ParamSpec::string("nan_policy", "error", {"error", "impute"}, "")},
        {ParamSpec::integer("block_rows", 65536, 1, 1'000'000'000, "")},
        {ParamSpec::string("csv_delimiter", ",", {}, "")},
        {ParamSpec::boolean("skip_bad_rows", false, "")}}},
      {"threshold",
       {{ParamSpec::real("contamination", 0.01, 0, 0.5, "")},
        {ParamSpec::real("score", 0, -std::numeric_limits<double>::max(),
                         std::numeric_limits<double>::max(), ""),
         false, true}}},
      {"output",
       {path_key("path", "hpcad-out/scores.h5", ""), path_key("model", "hpcad-out/model.h5", ""),
        path_key("report", "hpcad-out/report.json", ""),
        {ParamSpec::boolean("write_features", false, "")}}},
      {"features",
       {{ParamSpec::string("group_by", "", {}, "")},
        {ParamSpec::string("order_by", "", {}, "")},
        {ParamSpec::table_list("steps", {}, ""), false, false, true}}},
      {"run",
       {{ParamSpec::string("log_level", "info", {"quiet", "info", "debug"}, "")},
        {ParamSpec::integer("score_block_rows", 4096, 1, 100'000'000, "")},
        {ParamSpec::string("memory_per_rank", "auto", {}, "")}}},
  };
  return sections;
}

std::vector<KeySpec> detector_keys(const std::string& type) {
  std::vector<KeySpec> keys = {{ParamSpec::string("type", kDefaultDetector, {}, "")}};
  for (const ParamSpec& spec : find_detector(type).params) keys.push_back({spec});
  return keys;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& name, const std::vector<std::string>& valid) {
  std::string best;
  std::size_t best_distance = 3;  // suggest only close matches
  for (const auto& v : valid)
    if (const std::size_t dist = edit_distance(name, v); dist < best_distance) {
      best = v;
      best_distance = dist;
    }
  return best.empty() ? "" : fmt::format("did you mean '{}'? ", best);
}

/// Names where a key came from: "file:line" or "--set section.key".
class Locator {
 public:
  Locator(std::string file, std::set<std::string> overridden)
      : file_(std::move(file)), overridden_(std::move(overridden)) {}
  std::string at(const std::string& dotted, const toml::node* node) const {
    if (overridden_.count(dotted)) return fmt::format("--set {}", dotted);
    if (node && node->source().begin.line > 0)
      return fmt::format("{}:{}", file_, node->source().begin.line);
    return file_;
  }
  bool from_override(const std::string& dotted) const { return overridden_.count(dotted) > 0; }

 private:
  std::string file_;
  std::set<std::string> overridden_;
};

[[noreturn]] void fail_kind(const ParamSpec& spec, const std::string& dotted,
                            const toml::node& node, const Locator& where) {
  throw ConfigError(fmt::format("{}: {} must be {}", where.at(dotted, &node), dotted,
                                kind_description(spec.kind)));
}

/// Converts a TOML node to a checked value of the spec's kind (integers are accepted where
/// reals are expected); ConfigError naming the key otherwise.
ParamValue from_toml(const toml::node& node, const ParamSpec& spec, const std::string& dotted,
                     const Locator& where);

template <typename T, typename Convert>
std::optional<ParamValue> list_from_toml(const toml::node& node, Convert convert) {
  const toml::array* array = node.as_array();
  if (!array) return std::nullopt;
  std::vector<T> values;
  for (const auto& item : *array) {
    std::optional<T> value = convert(item);
    if (!value) return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

std::optional<std::int64_t> integer_of(const toml::node& node) {
  if (const auto* v = node.as_integer()) return v->get();
  return std::nullopt;
}
std::optional<double> real_of(const toml::node& node) {
  if (const auto* v = node.as_integer()) return static_cast<double>(v->get());
  if (const auto* v = node.as_floating_point()) return v->get();
  return std::nullopt;
}
std::optional<std::string> string_of(const toml::node& node) {
  if (const auto* v = node.as_string()) return v->get();
  return std::nullopt;
}

/// The value of a typed table's type field (e.g. "kmeans" for an ensemble member), checked.
std::string table_type(const toml::table& table, const ParamSpec& list, const std::string& dotted,
                       const Locator& where) {
  const ParamSpec* type_spec = find_spec(list.fields, kTableTypeKey);
  check_internal(type_spec != nullptr, "typed table list without a type field");
  const toml::node* node = table.get(kTableTypeKey);
  if (!node)
    throw ConfigError(fmt::format("{}: {}: missing key '{}' (one of \"{}\")", where.at(dotted, &table),
                                  dotted, kTableTypeKey, fmt::join(type_spec->choices, "\", \"")));
  return std::get<std::string>(
      from_toml(*node, *type_spec, fmt::format("{}.{}", dotted, kTableTypeKey), where));
}

/// Validates a table's keys against `fields`, naming "dotted.key" on errors.
ParamSet table_from_toml(const toml::table& table, const std::vector<ParamSpec>& fields,
                         const std::string& dotted, const Locator& where) {
  ParamSet values(fields);
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  for (const auto& [key_name, node] : table) {
    const std::string key(key_name.str());
    const ParamSpec* field = find_spec(fields, key);
    if (!field)
      throw ConfigError(fmt::format("{}: unknown key '{}.{}'; {}valid keys: {}",
                                    where.at(dotted, &node), dotted, key, suggestion(key, names),
                                    fmt::join(names, ", ")));
    values.set(key, from_toml(node, *field, dotted + "." + key, where));
  }
  return values;
}

/// A table of the list `list`; a typed table (an ensemble member) is named "dotted (type)",
/// as its keys depend on the type.
ParamSet table_from_toml(const toml::table& table, const ParamSpec& list, const std::string& dotted,
                         const Locator& where) {
  if (list.variants.empty()) return table_from_toml(table, list.fields, dotted, where);
  const std::string type = table_type(table, list, dotted, where);
  return table_from_toml(table, *list.table_fields(type), fmt::format("{} ({})", dotted, type),
                         where);
}

ParamValue from_toml(const toml::node& node, const ParamSpec& spec, const std::string& dotted,
                     const Locator& where) {
  std::optional<ParamValue> value;
  switch (spec.kind) {
    case ParamKind::kInteger:
      if (auto v = integer_of(node)) value = *v;
      break;
    case ParamKind::kReal:
      if (auto v = real_of(node)) value = *v;
      break;
    case ParamKind::kString:
      if (auto v = string_of(node)) value = *v;
      break;
    case ParamKind::kRealOrString:
      if (auto v = real_of(node)) value = *v;
      if (auto v = string_of(node)) value = *v;
      break;
    case ParamKind::kBool:
      if (const auto* v = node.as_boolean()) value = v->get();
      break;
    case ParamKind::kIntegerList:
      value = list_from_toml<std::int64_t>(node, integer_of);
      break;
    case ParamKind::kRealList:
      value = list_from_toml<double>(node, real_of);
      break;
    case ParamKind::kStringList:
      value = list_from_toml<std::string>(node, string_of);
      break;
    case ParamKind::kTableList: {
      const toml::array* array = node.as_array();
      if (!array) break;
      std::vector<ParamSet> tables;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::table* table = array->get(i)->as_table();
        if (!table) fail_kind(spec, dotted, node, where);
        tables.push_back(table_from_toml(*table, spec, fmt::format("{}[{}]", dotted, i), where));
      }
      value = std::move(tables);
      break;
    }
  }
  if (!value) fail_kind(spec, dotted, node, where);
  if (const std::string why = spec.check(*value); !why.empty()) {
    const bool scalar = spec.kind == ParamKind::kInteger || spec.kind == ParamKind::kReal ||
                        spec.kind == ParamKind::kString || spec.kind == ParamKind::kRealOrString;
    throw ConfigError(fmt::format("{}: {}{}: {}", where.at(dotted, &node), dotted,
                                  scalar ? " = " + to_string(*value) : "", why));
  }
  return *value;
}

/// A string value given on the command line, with optional surrounding double quotes.
std::string unquote(const std::string& text) {
  return text.size() >= 2 && text.front() == '"' && text.back() == '"'
             ? text.substr(1, text.size() - 2)
             : text;
}

const std::vector<KeySpec>* find_section(const Sections& sections, const std::string& name) {
  for (const auto& [section, keys] : sections)
    if (section == name) return &keys;
  return nullptr;
}

const KeySpec* find_key(const std::vector<KeySpec>& keys, const std::string& name) {
  for (const auto& key : keys)
    if (key.spec.name == name) return &key;
  return nullptr;
}

std::vector<std::string> names_of(const std::vector<KeySpec>& keys) {
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.spec.name);
  return names;
}

std::vector<std::string> names_of(const Sections& sections) {
  std::vector<std::string> names;
  for (const auto& s : sections) names.push_back(s.first);
  return names;
}

/// Parses `--set section.key=value` into the table, typed like the key's spec.
void apply_override(toml::table& root, const std::string& assignment, const Sections& sections,
                    std::set<std::string>& overridden) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos)
    throw ConfigError(
        fmt::format("--set {}: expected KEY=VALUE, e.g. detector.n_trees=200", assignment));
  const std::string dotted = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);
  const auto dot = dotted.find('.');
  if (dot == std::string::npos || dotted.find('.', dot + 1) != std::string::npos)
    throw ConfigError(
        fmt::format("--set {}: the key must be section.key, e.g. input.path", dotted));
  const std::string section = dotted.substr(0, dot);
  const std::string key = dotted.substr(dot + 1);
  const std::vector<KeySpec>* keys = find_section(sections, section);
  if (!keys)
    throw ConfigError(fmt::format("--set {}: unknown section '{}'; {}valid sections: {}", dotted,
                                  section, suggestion(section, names_of(sections)),
                                  fmt::join(names_of(sections), ", ")));
  const KeySpec* spec = find_key(*keys, key);
  if (!spec)
    throw ConfigError(fmt::format("--set {}: unknown key '{}'; {}valid keys in [{}]: {}", dotted,
                                  key, suggestion(key, names_of(*keys)), section,
                                  fmt::join(names_of(*keys), ", ")));
  if (text.find_first_of("\n\r") != std::string::npos)
    throw ConfigError(fmt::format("--set {}: the value contains a line break", dotted));
  toml::table* table = root[section].as_table();
  if (!table) {
    root.insert_or_assign(section, toml::table{});
    table = root[section].as_table();
  }
  overridden.insert(dotted);
  if (spec->spec.kind == ParamKind::kString) {
    table->insert_or_assign(key, unquote(text));
    return;
  }
  try {
    toml::table parsed = toml::parse("v = " + text);
    table->insert_or_assign(key, *parsed.get("v"));
  } catch (const toml::parse_error&) {
    // A bare word for a number-or-string key is its string: --set detector.gamma=scale.
    if (spec->spec.kind == ParamKind::kRealOrString) {
      table->insert_or_assign(key, text);
      return;
    }
    throw ConfigError(
        fmt::format("--set {}: \"{}\" is not {}", dotted, text, kind_description(spec->spec.kind)));
  }
}

std::string resolve_path(const std::string& value, const std::string& base) {
  if (value.empty()) return value;
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(base) / p).lexically_normal().string();
}

/// The detector type: a --set override wins over the file, the file over the default.
std::string detector_type(const toml::table& root, const std::vector<std::string>& overrides,
                          const std::string& source_path) {
  std::string type = kDefaultDetector;
  if (const auto* in_file = root["detector"]["type"].as_string()) type = in_file->get();
  constexpr std::string_view kTypeKey = "detector.type=";
  for (const auto& o : overrides)
    if (o.starts_with(kTypeKey)) type = unquote(o.substr(kTypeKey.size()));
  try {
    find_detector(type);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: detector.type: {}", source_path, e.what()));
  }
  return type;
}

/// Every key's value (defaults where absent), type- and range-checked, per section.
std::map<std::string, ParamSet> section_values(const toml::table& root, const Sections& sections,
                                               const Locator& where) {
  std::map<std::string, ParamSet> values;
  for (const auto& [section, keys] : sections) {
    std::vector<ParamSpec> specs;
    for (const auto& k : keys) specs.push_back(k.spec);
    values.emplace(section, ParamSet(specs));
  }
  for (const auto& [name, node] : root) {
    const std::string section(name.str());
    const std::vector<KeySpec>* keys = find_section(sections, section);
    if (!keys || !node.is_table())
      throw ConfigError(fmt::format(
          "{}: '{}' is not a valid section; {}valid sections: [{}]", where.at(section, &node),
          section, suggestion(section, names_of(sections)), fmt::join(names_of(sections), "], [")));
    for (const auto& [key_name, value] : *node.as_table()) {
      const std::string key(key_name.str());
      const std::string dotted = section + "." + key;
      const KeySpec* spec = find_key(*keys, key);
      if (!spec)
        throw ConfigError(fmt::format(
            "{}: unknown key '{}'; {}valid keys in [{}]: {}", where.at(dotted, &value), dotted,
            suggestion(key, names_of(*keys)), section, fmt::join(names_of(*keys), ", ")));
      if (spec->own_reader) continue;
      values[section].set(key, from_toml(value, spec->spec, dotted, where));
    }
  }
  return values;
}

}  // namespace

std::optional<std::int64_t> parse_memory_size(const std::string& text) {
  if (text == "auto") return std::nullopt;
  std::int64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, number);
  const std::string unit(rest, end);
  static const std::vector<std::pair<std::string, int>> kUnits = {
      {"", 0},     {"B", 0},  {"KiB", 10}, {"MiB", 20}, {"GiB", 30},
      {"TiB", 40}, {"K", 10}, {"M", 20},   {"G", 30},   {"T", 40}};
  const auto it =
      std::find_if(kUnits.begin(), kUnits.end(), [&](const auto& u) { return u.first == unit; });
  if (ec != std::errc() || rest == text.data() || number <= 0 || it == kUnits.end() ||
      number > (std::numeric_limits<std::int64_t>::max() >> it->second))
    throw ConfigError(fmt::format(
        "run.memory_per_rank = \"{}\": expected \"auto\" or a positive size such as \"512MiB\" "
        "or \"2GiB\" (units K, M, G, T = KiB, MiB, GiB, TiB)",
        text));
  return number << it->second;
}

std::string Config::provenance_text() const {
  std::string text_with_overrides = text;
  for (const auto& o : overrides) text_with_overrides += "\n# --set " + o;
  return text_with_overrides;
}

std::vector<std::pair<std::string, std::string>> config_keys() {
  std::vector<std::pair<std::string, std::string>> keys;
  Sections sections = fixed_sections();
  sections.emplace_back("detector", detector_keys(kDefaultDetector));
  for (const DetectorInfo& info : detector_registry())
    if (info.type != kDefaultDetector) {
      std::vector<KeySpec> specs;
      for (const ParamSpec& spec : info.params) specs.push_back({spec});
      sections.emplace_back("detector." + info.type, specs);
    }
  for (const auto& [section, specs] : sections)
    for (const auto& key : specs)
      keys.emplace_back(section + "." + key.spec.name,
                        key.no_default ? "" : to_string(key.spec.default_value));
  return keys;
}

namespace {

/// The checked values of a parsed config file, with where each came from.
struct ParsedValues {
  const toml::table& root;
  const Locator& where;
  std::map<std::string, ParamSet> values;
  std::string file_dir;           ///< anchors relative paths in the file
  std::string working_directory;  ///< anchors relative paths given with --set

  const ParamSet& section(const std::string& name) const { return values.at(name); }
  const toml::node* node(const std::string& section, const std::string& key) const {
    return root[section][key].node();
  }
  std::string path(const std::string& section, const std::string& key) const {
    return resolve_path(values.at(section).string(key),
                        where.from_override(section + "." + key) ? working_directory : file_dir);
  }
};

InputSpec input_spec(const ParsedValues& parsed, const std::string& source_path) {
  const ParamSet& input = parsed.section("input");
  InputSpec in;
  if (!parsed.node("input", "path"))
    throw ConfigError(
        fmt::format("{}: missing required key input.path (the data file to score)", source_path));
  in.path = parsed.path("input", "path");
  // Found by fuzz_config: "" passed as present, and failed only when the job opened it.
  if (in.path.empty())
    throw ConfigError(fmt::format("{}: input.path is empty (the data file to score)",
                                  parsed.where.at("input.path", parsed.node("input", "path"))));
  in.format = input.string("format");
  in.dataset = input.string("dataset");
  in.group = input.string("group");
  in.columns = input.strings("columns");
  in.label = input.string("label");
  in.nan_policy = input.string("nan_policy");
  in.block_rows = input.integer("block_rows");
  in.csv_delimiter = input.string("csv_delimiter");
  if (in.csv_delimiter.size() != 1)
    throw ConfigError(
        fmt::format("{}: input.csv_delimiter must be a single character",
                    parsed.where.at("input.csv_delimiter", parsed.node("input", "csv_delimiter"))));
  in.skip_bad_rows = input.boolean("skip_bad_rows");
  return in;
}

/// Exactly one of threshold.contamination (default 0.01) and threshold.score.
void read_threshold(const ParsedValues& parsed, Config& config) {
  const ParamSet& threshold = parsed.section("threshold");
  const toml::node* contamination = parsed.node("threshold", "contamination");
  const toml::node* score = parsed.node("threshold", "score");
  if (contamination && score)
    throw ConfigError(
        fmt::format("{}: set either threshold.contamination or threshold.score, not both",
                    parsed.where.at("threshold.score", score)));
  if (score) {
    config.score_threshold = threshold.real("score");
    return;
  }
  config.contamination = threshold.real("contamination");
  if (*config.contamination <= 0)
    throw ConfigError(fmt::format("{}: threshold.contamination = {}: must be in (0, 0.5]",
                                  parsed.where.at("threshold.contamination", contamination),
                                  *config.contamination));
}

void read_run(const ParsedValues& parsed, Config& config) {
  const ParamSet& run = parsed.section("run");
  config.log_level = run.string("log_level");
  config.score_block_rows = run.integer("score_block_rows");
  config.memory_per_rank = run.string("memory_per_rank");
  try {
    parse_memory_size(config.memory_per_rank);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format(
        "{}: {}", parsed.where.at("run.memory_per_rank", parsed.node("run", "memory_per_rank")),
        e.what()));
  }
}

/// One features.steps element: `op` names a registered transform, the other keys are its
/// parameters; the section's group_by / order_by are set on every step that has them.
FeatureStepConfig feature_step(const toml::node& node, std::size_t index,
                               const ParsedValues& parsed, const Config& config) {
  const std::string dotted = fmt::format("features.steps[{}]", index);
  const std::string where = parsed.where.at("features.steps", &node);
  const toml::table* table = node.as_table();
  const auto* op = table ? table->get_as<std::string>("op") : nullptr;
  if (!op)
    throw ConfigError(fmt::format("{}: {} must be a table with op = \"<transform>\", e.g. "
                                  "{{ op = \"diff\", columns = [\"x\"] }}",
                                  where, dotted));
  FeatureStepConfig step{op->get(), {}};
  const TransformInfo* info = nullptr;
  try {
    info = &find_transform(step.op);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}: {}", where, dotted, e.what()));
  }
  toml::table keys = *table;
  keys.erase("op");
  for (const char* key : {"group_by", "order_by"})
    if (keys.contains(key))
      throw ConfigError(fmt::format("{}: {} ({}): {} is set once for all steps in [features]",
                                    where, dotted, step.op, key));
  step.params = table_from_toml(keys, info->params, fmt::format("{} ({})", dotted, step.op),
                                parsed.where);
  if (find_spec(info->params, "group_by")) step.params.set("group_by", config.group_by);
  if (find_spec(info->params, "order_by")) step.params.set("order_by", config.order_by);
  return step;
}

/// [features]: the keys, the steps, and a final step dropping the keys (read, never fed to
/// the detector). The keys are read even when input.columns does not list them.
void read_features(const ParsedValues& parsed, Config& config) {
  const ParamSet& features = parsed.section("features");
  config.group_by = features.string("group_by");
  config.order_by = features.string("order_by");
  if (config.group_by == config.order_by && !config.group_by.empty())
    throw ConfigError(fmt::format("{}: features.group_by and features.order_by are both '{}'",
                                  parsed.where.at("features.order_by",
                                                  parsed.node("features", "order_by")),
                                  config.group_by));
  if (const toml::node* steps = parsed.node("features", "steps")) {
    const toml::array* array = steps->as_array();
    if (!array)
      throw ConfigError(fmt::format("{}: features.steps must be an array of tables",
                                    parsed.where.at("features.steps", steps)));
    for (std::size_t i = 0; i < array->size(); ++i)
      config.feature_steps.push_back(feature_step(*array->get(i), i, parsed, config));
  }
  std::vector<std::string> keys;
  for (const auto& key : {config.group_by, config.order_by})
    if (!key.empty()) keys.push_back(key);
  if (keys.empty()) return;
  config.input.key_columns = keys;
  auto& columns = config.input.columns;
  for (const auto& key : keys)
    if (!columns.empty() && std::find(columns.begin(), columns.end(), key) == columns.end())
      columns.push_back(key);
  ParamSet drop(find_transform("drop").params);
  drop.set("columns", keys);
  config.feature_steps.push_back({"drop", drop});
}

toml::table parse_toml(const std::string& text, const std::string& source_path) {
  try {
    return toml::parse(text, source_path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: {}", source_path, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source_path,
                    const std::vector<std::string>& overrides,
                    const std::string& working_directory) {
  Config config;
  config.source_path = source_path;
  config.text = text;
  config.overrides = overrides;
  toml::table root = parse_toml(text, source_path);
  // The detector type decides which [detector] keys exist, so settle it first.
  config.detector_type = detector_type(root, overrides, source_path);
  Sections sections = fixed_sections();
  sections.emplace_back("detector", detector_keys(config.detector_type));
  std::set<std::string> overridden;
  for (const auto& o : overrides) apply_override(root, o, sections, overridden);
  const Locator where(source_path, overridden);
  const std::string file_dir = fs::path(source_path).parent_path().empty()
                                   ? working_directory
                                   : fs::absolute(fs::path(source_path).parent_path()).string();
  const ParsedValues parsed{root, where, section_values(root, sections, where), file_dir,
                            working_directory};

  config.input = input_spec(parsed, source_path);
  config.detector_params = ParamSet(find_detector(config.detector_type).params);
  for (const auto& [key, value] : parsed.section("detector").values())
    if (key != "type") config.detector_params.set(key, value);
  // Building the detector checks what no single key can (an ensemble's member names).
  try {
    make_detector(config.detector_type, config.detector_params);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", source_path, e.what()));
  }
  read_threshold(parsed, config);
  read_features(parsed, config);
  config.output_path = parsed.path("output", "path");
  config.model_path = parsed.path("output", "model");
  config.report_path = parsed.path("output", "report");
  config.write_features = parsed.section("output").boolean("write_features");
  read_run(parsed, config);
  return config;
}

}  // namespace hpcad
