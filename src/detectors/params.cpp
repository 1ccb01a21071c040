#include "hpcad/detectors/params.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

std::string check_integer(const ParamSpec& spec, std::int64_t value) {
  if (value < spec.int_min) return fmt::format("must be at least {}", spec.int_min);
  if (value > spec.int_max) return fmt::format("must be at most {}", spec.int_max);
  return {};
}

std::string check_real(const ParamSpec& spec, double value) {
  if (spec.optional && std::isnan(value)) return {};
  if (!std::isfinite(value)) return "must be finite";
  const bool below = spec.real_min_exclusive ? value <= spec.real_min : value < spec.real_min;
  if (below || value > spec.real_max)
    return fmt::format("must be in {}{}, {}]", spec.real_min_exclusive ? "(" : "[", spec.real_min,
                       spec.real_max);
  return {};
}

std::string check_string(const ParamSpec& spec, const std::string& value) {
  if (!spec.choices.empty() &&
      std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end())
    return fmt::format("must be one of \"{}\"", fmt::join(spec.choices, "\", \""));
  return {};
}

/// Checks every element of a list with `check`, naming the first bad element.
template <typename T, typename Check>
std::string check_elements(const std::vector<T>& values, Check check) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (std::string why = check(values[i]); !why.empty())
      return fmt::format("element {}: {}", i, why);
  return {};
}

/// The value of a typed table's type field, "" when it has none.
std::string table_type(const ParamSet& table) {
  const auto it = table.values().find(kTableTypeKey);
  const auto* type = it == table.values().end() ? nullptr : std::get_if<std::string>(&it->second);
  return type ? *type : std::string();
}

std::string check_table(const ParamSpec& spec, const ParamSet& table) {
  const std::string type = table_type(table);
  const std::optional<std::vector<ParamSpec>> fields = spec.table_fields(type);
  if (!fields) {
    std::vector<std::string> types;
    for (const ParamSpec& variant : spec.variants) types.push_back(variant.name);
    return fmt::format("{} = \"{}\": must be one of \"{}\"", kTableTypeKey, type,
                       fmt::join(types, "\", \""));
  }
  for (const auto& [key, value] : table.values()) {
    const ParamSpec* field = find_spec(*fields, key);
    if (!field) return fmt::format("{}: unknown key", key);
    if (std::string why = field->check(value); !why.empty())
      return fmt::format("{}: {}", key, why);
  }
  return {};
}

/// Renders values as TOML text.
struct Render {
  std::string operator()(std::int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const {
    // Always a TOML float: "2" would read back as an integer.
    std::string text = fmt::format("{}", v);
    return text.find_first_of(".eEn") == std::string::npos ? text + ".0" : text;
  }
  std::string operator()(const std::string& v) const { return fmt::format("\"{}\"", v); }
  std::string operator()(bool v) const { return v ? "true" : "false"; }
  template <typename T>
  std::string operator()(const std::vector<T>& v) const {
    std::vector<std::string> items;
    for (const auto& item : v) items.push_back((*this)(item));
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  std::string operator()(const ParamSet& table) const {
    std::vector<std::string> items;
    for (const auto& [key, item] : table.values())
      items.push_back(fmt::format("{} = {}", key, to_string(item)));
    return fmt::format("{{ {} }}", fmt::join(items, ", "));
  }
};

}  // namespace

ParamSpec ParamSpec::integer(std::string name, std::int64_t default_value, std::int64_t min,
                             std::int64_t max, std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kInteger, default_value};
  spec.int_min = min;
  spec.int_max = max;
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::real(std::string name, double default_value, double min, double max,
                          std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kReal, default_value};
  spec.real_min = min;
  spec.real_max = max;
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::optional_real(std::string name, double min, double max, std::string doc) {
  ParamSpec spec = real(std::move(name), std::nan(""), min, max, std::move(doc));
  spec.optional = true;
  return spec;
}

ParamSpec ParamSpec::string(std::string name, std::string default_value,
                            std::vector<std::string> choices, std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kString, std::move(default_value)};
  spec.choices = std::move(choices);
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::boolean(std::string name, bool default_value, std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kBool, default_value};
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::real_or_choice(std::string name, std::string default_value,
                                    double exclusive_min, double max,
                                    std::vector<std::string> choices, std::string doc) {
  ParamSpec spec = string(std::move(name), std::move(default_value), std::move(choices),
                          std::move(doc));
  spec.kind = ParamKind::kRealOrString;
  spec.real_min = exclusive_min;
  spec.real_min_exclusive = true;
  spec.real_max = max;
  return spec;
}

ParamSpec ParamSpec::integer_list(std::string name, std::vector<std::int64_t> default_value,
                                  std::int64_t min, std::int64_t max, std::string doc) {
  ParamSpec spec = integer(std::move(name), 0, min, max, std::move(doc));
  spec.kind = ParamKind::kIntegerList;
  spec.default_value = std::move(default_value);
  return spec;
}

ParamSpec ParamSpec::real_list(std::string name, std::vector<double> default_value, double min,
                               double max, std::string doc) {
  ParamSpec spec = real(std::move(name), 0, min, max, std::move(doc));
  spec.kind = ParamKind::kRealList;
  spec.default_value = std::move(default_value);
  return spec;
}

ParamSpec ParamSpec::string_list(std::string name, std::vector<std::string> default_value,
                                 std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kStringList, std::move(default_value)};
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::table_list(std::string name, std::vector<ParamSpec> fields, std::string doc) {
  ParamSpec spec{std::move(name), ParamKind::kTableList, std::vector<ParamSet>{}};
  spec.fields = std::move(fields);
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec ParamSpec::typed_table_list(std::string name, std::vector<ParamSpec> fields,
                                      std::vector<ParamSpec> variants, std::string doc) {
  ParamSpec spec = table_list(std::move(name), std::move(fields), std::move(doc));
  spec.variants = std::move(variants);
  return spec;
}

std::optional<std::vector<ParamSpec>> ParamSpec::table_fields(const std::string& type) const {
  if (variants.empty()) return fields;
  const ParamSpec* variant = find_spec(variants, type);
  if (!variant) return std::nullopt;
  std::vector<ParamSpec> all = fields;
  all.insert(all.end(), variant->fields.begin(), variant->fields.end());
  return all;
}

std::string ParamSpec::check(const ParamValue& value) const {
  const std::string wrong_kind = fmt::format("must be {}", kind_description(kind));
  switch (kind) {
    case ParamKind::kInteger: {
      const auto* v = std::get_if<std::int64_t>(&value);
      return v ? check_integer(*this, *v) : wrong_kind;
    }
    case ParamKind::kReal: {
      const auto* v = std::get_if<double>(&value);
      return v ? check_real(*this, *v) : wrong_kind;
    }
    case ParamKind::kString: {
      const auto* v = std::get_if<std::string>(&value);
      return v ? check_string(*this, *v) : wrong_kind;
    }
    case ParamKind::kBool:
      return std::holds_alternative<bool>(value) ? std::string() : wrong_kind;
    case ParamKind::kIntegerList: {
      const auto* v = std::get_if<std::vector<std::int64_t>>(&value);
      return v ? check_elements(*v, [&](std::int64_t x) { return check_integer(*this, x); })
               : wrong_kind;
    }
    case ParamKind::kRealList: {
      const auto* v = std::get_if<std::vector<double>>(&value);
      return v ? check_elements(*v, [&](double x) { return check_real(*this, x); }) : wrong_kind;
    }
    case ParamKind::kStringList: {
      const auto* v = std::get_if<std::vector<std::string>>(&value);
      return v ? check_elements(*v, [&](const std::string& x) { return check_string(*this, x); })
               : wrong_kind;
    }
    case ParamKind::kRealOrString: {
      if (const auto* v = std::get_if<double>(&value)) return check_real(*this, *v);
      const auto* v = std::get_if<std::string>(&value);
      return v ? check_string(*this, *v) : wrong_kind;
    }
    case ParamKind::kTableList: {
      const auto* v = std::get_if<std::vector<ParamSet>>(&value);
      if (!v) return wrong_kind;
      for (std::size_t i = 0; i < v->size(); ++i)
        if (std::string why = check_table(*this, (*v)[i]); !why.empty())
          return variants.empty() ? fmt::format("element {}: {}", i, why)
                                  : fmt::format("element {} ({}): {}", i, table_type((*v)[i]), why);
      return {};
    }
  }
  return {};
}

const char* kind_description(ParamKind kind) {
  switch (kind) {
    case ParamKind::kInteger:
      return "an integer";
    case ParamKind::kReal:
      return "a number";
    case ParamKind::kString:
      return "a string";
    case ParamKind::kBool:
      return "a boolean (true or false)";
    case ParamKind::kIntegerList:
      return "an array of integers";
    case ParamKind::kRealList:
      return "an array of numbers";
    case ParamKind::kStringList:
      return "an array of strings";
    case ParamKind::kTableList:
      return "an array of tables";
    case ParamKind::kRealOrString:
      return "a number or a string";
  }
  return "";
}

const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& name) {
  const auto it =
      std::find_if(specs.begin(), specs.end(), [&](const ParamSpec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

ParamSet::ParamSet(const std::vector<ParamSpec>& specs) {
  for (const auto& spec : specs) values_[spec.name] = spec.default_value;
}

void ParamSet::set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }

bool ParamSet::operator==(const ParamSet& other) const {
  // Compared as rendered text: an optional real left out is NaN, and NaN == NaN is false.
  return values_.size() == other.values_.size() &&
         std::equal(values_.begin(), values_.end(), other.values_.begin(),
                    [](const auto& a, const auto& b) {
                      return a.first == b.first && to_string(a.second) == to_string(b.second);
                    });
}

const ParamValue& ParamSet::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InternalError("hyperparameter '" + name + "' not set");
  return it->second;
}

std::int64_t ParamSet::integer(const std::string& name) const {
  return std::get<std::int64_t>(at(name));
}
double ParamSet::real(const std::string& name) const { return std::get<double>(at(name)); }
std::optional<double> ParamSet::number(const std::string& name) const {
  const auto* v = std::get_if<double>(&at(name));
  return v ? std::optional<double>(*v) : std::nullopt;
}
const std::string& ParamSet::string(const std::string& name) const {
  return std::get<std::string>(at(name));
}
bool ParamSet::boolean(const std::string& name) const { return std::get<bool>(at(name)); }
const std::vector<std::int64_t>& ParamSet::integers(const std::string& name) const {
  return std::get<std::vector<std::int64_t>>(at(name));
}
const std::vector<double>& ParamSet::reals(const std::string& name) const {
  return std::get<std::vector<double>>(at(name));
}
const std::vector<std::string>& ParamSet::strings(const std::string& name) const {
  return std::get<std::vector<std::string>>(at(name));
}
const std::vector<ParamSet>& ParamSet::tables(const std::string& name) const {
  return std::get<std::vector<ParamSet>>(at(name));
}

std::string to_string(const ParamValue& value) { return std::visit(Render{}, value); }

}  // namespace hpcad
