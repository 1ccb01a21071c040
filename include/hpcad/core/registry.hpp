#pragma once
/// Lookup in a registry of named entries (detectors, transforms).
#include <fmt/format.h>

#include <string>
#include <vector>

#include "hpcad/core/error.hpp"

namespace hpcad {

/// The entry of `registry` whose `type` is `type`; ConfigError listing the valid ones
/// otherwise (`what` names the kind, e.g. "detector type").
template <typename Info>
const Info& find_registered(const std::vector<Info>& registry, const std::string& type,
                            const char* what) {
  std::vector<std::string> names;
  for (const auto& info : registry) {
    if (info.type == type) return info;
    names.push_back(info.type);
  }
  throw ConfigError(fmt::format("unknown {} \"{}\"; valid {}s: \"{}\"", what, type, what,
                                fmt::join(names, "\", \"")));
}

}  // namespace hpcad
