#include "hpcad/detectors/detector.hpp"

#include <fmt/format.h>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/isolation_forest.hpp"

namespace hpcad {

std::string to_string(const ParamValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return fmt::format("\"{}\"", std::get<std::string>(value));
}

std::string ParamSpec::check(const ParamValue& value) const {
  switch (kind) {
    case ParamKind::kInteger: {
      const auto* i = std::get_if<std::int64_t>(&value);
      if (!i) return "must be an integer";
      if (static_cast<double>(*i) < min) return fmt::format("must be at least {}", min);
      if (static_cast<double>(*i) > max) return fmt::format("must be at most {}", max);
      return {};
    }
    case ParamKind::kReal: {
      const auto* d = std::get_if<double>(&value);
      if (!d) return "must be a number";
      if (!(*d >= min && *d <= max)) return fmt::format("must be in [{}, {}]", min, max);
      return {};
    }
    case ParamKind::kString: {
      const auto* s = std::get_if<std::string>(&value);
      if (!s) return "must be a string";
      if (!choices.empty() && std::find(choices.begin(), choices.end(), *s) == choices.end())
        return fmt::format("must be one of \"{}\"", fmt::join(choices, "\", \""));
      return {};
    }
  }
  return {};
}

ParamSet::ParamSet(const std::vector<ParamSpec>& specs) {
  for (const auto& spec : specs) values_[spec.name] = spec.default_value;
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
const std::string& ParamSet::string(const std::string& name) const {
  return std::get<std::string>(at(name));
}

const std::vector<DetectorInfo>& detector_registry() {
  static const std::vector<DetectorInfo> registry = {
      {"iforest", "isolation forest (Liu, Ting, Zhou 2008)", IsolationForest::param_specs(),
       [](const ParamSet& p) { return std::make_unique<IsolationForest>(p); }},
  };
  return registry;
}

const DetectorInfo& find_detector(const std::string& type) {
  std::vector<std::string> names;
  for (const auto& info : detector_registry()) {
    if (info.type == type) return info;
    names.push_back(info.type);
  }
  throw ConfigError(fmt::format("unknown detector type \"{}\"; valid types: \"{}\"", type,
                                fmt::join(names, "\", \"")));
}

std::unique_ptr<Detector> make_detector(const std::string& type, const ParamSet& params) {
  return find_detector(type).make(params);
}

}  // namespace hpcad
