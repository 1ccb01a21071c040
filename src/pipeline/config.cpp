#include "hpcad/pipeline/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/detector.hpp"

namespace fs = std::filesystem;

namespace hpcad {
namespace {

enum class Kind { kInteger, kReal, kString, kBool, kStringList };

struct KeySpec {
  std::string name;
  Kind kind;
  std::string default_toml;  ///< "" for required keys
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;
  bool is_path = false;
};

const std::vector<std::pair<std::string, std::vector<KeySpec>>>& fixed_sections() {
  static const std::vector<std::pair<std::string, std::vector<KeySpec>>> sections = {
      {"input",
       {{"path", Kind::kString, "", 0, 0, {}, true},
        {"format", Kind::kString, "\"auto\"", 0, 0, {"auto", "hdf5", "parquet", "csv"}},
        {"dataset", Kind::kString, "\"X\""},
        {"group", Kind::kString, "\"/\""},
        {"columns", Kind::kStringList, "[]"},
        {"label", Kind::kString, "\"\""},
        {"nan_policy", Kind::kString, "\"error\"", 0, 0, {"error", "impute"}},
        {"block_rows", Kind::kInteger, "65536", 1, 1e9},
        {"csv_delimiter", Kind::kString, "\",\""},
        {"skip_bad_rows", Kind::kBool, "false"}}},
      {"threshold",
       {{"contamination", Kind::kReal, "0.01", 0, 0.5},
        {"score", Kind::kReal, "", -std::numeric_limits<double>::max(),
         std::numeric_limits<double>::max()}}},
      {"output",
       {{"path", Kind::kString, "\"hpcad-out/scores.h5\"", 0, 0, {}, true},
        {"model", Kind::kString, "\"hpcad-out/model.h5\"", 0, 0, {}, true},
        {"report", Kind::kString, "\"hpcad-out/report.json\"", 0, 0, {}, true}}},
      {"run",
       {{"log_level", Kind::kString, "\"info\"", 0, 0, {"quiet", "info", "debug"}},
        {"score_block_rows", Kind::kInteger, "4096", 1, 1e8}}},
  };
  return sections;
}

std::string default_toml(const ParamSpec& spec) { return to_string(spec.default_value); }

KeySpec key_spec(const ParamSpec& spec) {
  const Kind kind = spec.kind == ParamKind::kInteger ? Kind::kInteger
                    : spec.kind == ParamKind::kReal  ? Kind::kReal
                                                     : Kind::kString;
  return {spec.name, kind, default_toml(spec), spec.min, spec.max, spec.choices};
}

std::vector<KeySpec> detector_keys(const std::string& type) {
  std::vector<KeySpec> keys = {{"type", Kind::kString, "\"iforest\""}};
  for (const ParamSpec& spec : find_detector(type).params) keys.push_back(key_spec(spec));
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

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInteger:
      return "an integer";
    case Kind::kReal:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kBool:
      return "a boolean (true or false)";
    case Kind::kStringList:
      return "an array of strings";
  }
  return "";
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

/// A checked value of one key (already type- and range-validated).
struct Value {
  const toml::node* node = nullptr;
  std::string dotted;
};

void check_value(const KeySpec& spec, const Value& value, const Locator& where) {
  const toml::node& node = *value.node;
  auto fail = [&](const std::string& why) {
    throw ConfigError(
        fmt::format("{}: {} {}", where.at(value.dotted, value.node), value.dotted, why));
  };
  switch (spec.kind) {
    case Kind::kInteger: {
      if (!node.is_integer()) fail(fmt::format("must be {}", kind_name(spec.kind)));
      const double v = static_cast<double>(node.as_integer()->get());
      if (v < spec.min)
        fail(fmt::format("= {}: must be at least {}", node.as_integer()->get(), spec.min));
      if (v > spec.max)
        fail(fmt::format("= {}: must be at most {}", node.as_integer()->get(), spec.max));
      return;
    }
    case Kind::kReal: {
      if (!node.is_number()) fail(fmt::format("must be {}", kind_name(spec.kind)));
      const double v = node.is_integer() ? static_cast<double>(node.as_integer()->get())
                                         : node.as_floating_point()->get();
      if (!(v >= spec.min && v <= spec.max) || !std::isfinite(v))
        fail(fmt::format("= {}: must be in [{}, {}]", v, spec.min, spec.max));
      return;
    }
    case Kind::kString: {
      if (!node.is_string()) fail(fmt::format("must be {}", kind_name(spec.kind)));
      const std::string& v = node.as_string()->get();
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end())
        fail(fmt::format("= \"{}\": must be one of \"{}\"", v, fmt::join(spec.choices, "\", \"")));
      return;
    }
    case Kind::kBool:
      if (!node.is_boolean()) fail(fmt::format("must be {}", kind_name(spec.kind)));
      return;
    case Kind::kStringList: {
      const toml::array* array = node.as_array();
      if (!array) fail(fmt::format("must be {}", kind_name(spec.kind)));
      for (const auto& item : *array)
        if (!item.is_string()) fail(fmt::format("must be {}", kind_name(spec.kind)));
      return;
    }
  }
}

/// A string value given on the command line, with optional surrounding double quotes.
std::string unquote(const std::string& text) {
  return text.size() >= 2 && text.front() == '"' && text.back() == '"'
             ? text.substr(1, text.size() - 2)
             : text;
}

/// Parses `--set section.key=value` into the table, typed like the key's spec.
void apply_override(toml::table& root, const std::string& assignment,
                    std::set<std::string>& overridden, const std::string& detector_type) {
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
  std::vector<KeySpec> keys;
  std::vector<std::string> sections = {"detector"};
  for (const auto& [name, specs] : fixed_sections()) {
    sections.push_back(name);
    if (name == section) keys = specs;
  }
  if (section == "detector") keys = detector_keys(detector_type);
  if (keys.empty())
    throw ConfigError(fmt::format("--set {}: unknown section '{}'; {}valid sections: {}", dotted,
                                  section, suggestion(section, sections),
                                  fmt::join(sections, ", ")));
  const auto spec =
      std::find_if(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == key; });
  if (spec == keys.end()) {
    std::vector<std::string> names;
    for (const auto& k : keys) names.push_back(k.name);
    throw ConfigError(fmt::format("--set {}: unknown key '{}'; {}valid keys in [{}]: {}", dotted,
                                  key, suggestion(key, names), section, fmt::join(names, ", ")));
  }
  toml::table* table = root[section].as_table();
  if (!table) {
    root.insert_or_assign(section, toml::table{});
    table = root[section].as_table();
  }
  overridden.insert(dotted);
  if (spec->kind == Kind::kString) {
    table->insert_or_assign(key, unquote(text));
    return;
  }
  try {
    toml::table parsed = toml::parse("v = " + text);
    table->insert_or_assign(key, *parsed.get("v"));
  } catch (const toml::parse_error&) {
    throw ConfigError(
        fmt::format("--set {}: \"{}\" is not {}", dotted, text, kind_name(spec->kind)));
  }
}

std::string resolve_path(const std::string& value, const std::string& base) {
  if (value.empty()) return value;
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(base) / p).lexically_normal().string();
}

}  // namespace

std::string Config::provenance_text() const {
  std::string text_with_overrides = text;
  for (const auto& o : overrides) text_with_overrides += "\n# --set " + o;
  return text_with_overrides;
}

std::vector<std::pair<std::string, std::string>> config_keys() {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [section, specs] : fixed_sections())
    for (const auto& spec : specs) keys.emplace_back(section + "." + spec.name, spec.default_toml);
  for (const auto& spec : detector_keys("iforest"))
    keys.emplace_back("detector." + spec.name, spec.default_toml);
  return keys;
}

Config parse_config(const std::string& text, const std::string& source_path,
                    const std::vector<std::string>& overrides,
                    const std::string& working_directory) {
  Config config;
  config.source_path = source_path;
  config.text = text;
  config.overrides = overrides;
  toml::table root;
  try {
    root = toml::parse(text, source_path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: {}", source_path, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  // The detector type decides which [detector] keys exist, so settle it first.
  std::string detector_type = "iforest";
  for (const auto& o : overrides)
    if (o.rfind("detector.type=", 0) == 0)
      detector_type = unquote(o.substr(std::string("detector.type=").size()));
  if (detector_type == "iforest")
    if (const auto* type = root["detector"]["type"].as_string()) detector_type = type->get();
  try {
    find_detector(detector_type);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: detector.type: {}", source_path, e.what()));
  }
  std::set<std::string> overridden;
  for (const auto& o : overrides) apply_override(root, o, overridden, detector_type);
  const Locator where(source_path, overridden);

  std::vector<std::pair<std::string, std::vector<KeySpec>>> sections = fixed_sections();
  sections.emplace_back("detector", detector_keys(detector_type));
  std::vector<std::string> section_names;
  for (const auto& s : sections) section_names.push_back(s.first);
  for (const auto& [name, node] : root) {
    const std::string section(name.str());
    const auto found = std::find_if(sections.begin(), sections.end(),
                                    [&](const auto& s) { return s.first == section; });
    if (found == sections.end() || !node.is_table())
      throw ConfigError(fmt::format(
          "{}: '{}' is not a valid section; {}valid sections: [{}]", where.at(section, &node),
          section, suggestion(section, section_names), fmt::join(section_names, "], [")));
    std::vector<std::string> key_names;
    for (const auto& spec : found->second) key_names.push_back(spec.name);
    for (const auto& [key_name, value] : *node.as_table()) {
      const std::string key(key_name.str());
      const auto spec = std::find_if(found->second.begin(), found->second.end(),
                                     [&](const KeySpec& k) { return k.name == key; });
      const std::string dotted = section + "." + key;
      if (spec == found->second.end())
        throw ConfigError(fmt::format("{}: unknown key '{}'; {}valid keys in [{}]: {}",
                                      where.at(dotted, &value), dotted, suggestion(key, key_names),
                                      section, fmt::join(key_names, ", ")));
      check_value(*spec, Value{&value, dotted}, where);
    }
  }

  const std::string file_dir = fs::path(source_path).parent_path().empty()
                                   ? working_directory
                                   : fs::absolute(fs::path(source_path).parent_path()).string();
  auto get = [&](const std::string& section, const std::string& key) -> const toml::node* {
    return root[section][key].node();
  };
  auto get_string = [&](const std::string& section, const std::string& key,
                        const std::string& fallback) {
    const toml::node* node = get(section, key);
    return node ? node->as_string()->get() : fallback;
  };
  auto get_path = [&](const std::string& section, const std::string& key,
                      const std::string& fallback) {
    const std::string dotted = section + "." + key;
    return resolve_path(get_string(section, key, fallback),
                        where.from_override(dotted) ? working_directory : file_dir);
  };
  auto get_int = [&](const std::string& section, const std::string& key, Index fallback) {
    const toml::node* node = get(section, key);
    return node ? static_cast<Index>(node->as_integer()->get()) : fallback;
  };
  auto get_real = [&](const std::string& section, const std::string& key) -> std::optional<double> {
    const toml::node* node = get(section, key);
    if (!node) return std::nullopt;
    return node->is_integer() ? static_cast<double>(node->as_integer()->get())
                              : node->as_floating_point()->get();
  };

  InputSpec& in = config.input;
  if (!get("input", "path"))
    throw ConfigError(
        fmt::format("{}: missing required key input.path (the data file to score)", source_path));
  in.path = get_path("input", "path", "");
  in.format = get_string("input", "format", in.format);
  in.dataset = get_string("input", "dataset", in.dataset);
  in.group = get_string("input", "group", in.group);
  if (const toml::node* columns = get("input", "columns"))
    for (const auto& item : *columns->as_array()) in.columns.push_back(item.as_string()->get());
  in.label = get_string("input", "label", in.label);
  in.nan_policy = get_string("input", "nan_policy", in.nan_policy);
  in.block_rows = get_int("input", "block_rows", in.block_rows);
  in.csv_delimiter = get_string("input", "csv_delimiter", in.csv_delimiter);
  if (in.csv_delimiter.size() != 1)
    throw ConfigError(fmt::format("{}: input.csv_delimiter must be a single character",
                                  where.at("input.csv_delimiter", get("input", "csv_delimiter"))));
  if (const toml::node* skip = get("input", "skip_bad_rows"))
    in.skip_bad_rows = skip->as_boolean()->get();

  config.detector_type = detector_type;
  config.detector_params = ParamSet(find_detector(detector_type).params);
  for (const ParamSpec& spec : find_detector(detector_type).params) {
    const toml::node* node = get("detector", spec.name);
    if (!node) continue;
    if (spec.kind == ParamKind::kInteger)
      config.detector_params.set(spec.name, node->as_integer()->get());
    else if (spec.kind == ParamKind::kReal)
      config.detector_params.set(spec.name, *get_real("detector", spec.name));
    else
      config.detector_params.set(spec.name, node->as_string()->get());
  }

  config.contamination = get_real("threshold", "contamination");
  config.score_threshold = get_real("threshold", "score");
  if (config.contamination && config.score_threshold)
    throw ConfigError(
        fmt::format("{}: set either threshold.contamination or threshold.score, not both",
                    where.at("threshold.score", get("threshold", "score"))));
  if (config.contamination && *config.contamination <= 0)
    throw ConfigError(
        fmt::format("{}: threshold.contamination = {}: must be in (0, 0.5]",
                    where.at("threshold.contamination", get("threshold", "contamination")),
                    *config.contamination));
  if (!config.contamination && !config.score_threshold) config.contamination = 0.01;

  config.output_path = get_path("output", "path", "hpcad-out/scores.h5");
  config.model_path = get_path("output", "model", "hpcad-out/model.h5");
  config.report_path = get_path("output", "report", "hpcad-out/report.json");
  config.log_level = get_string("run", "log_level", config.log_level);
  config.score_block_rows = get_int("run", "score_block_rows", config.score_block_rows);
  return config;
}

}  // namespace hpcad
