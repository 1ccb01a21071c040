#include "hpcad/detectors/model_state.hpp"

#include <fmt/format.h>

#include <cmath>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

template <typename T>
const std::vector<T>& find_array(const std::map<std::string, std::vector<T>>& arrays,
                                 const std::string& name, std::optional<std::size_t> size,
                                 const std::string& where, const char* kind) {
  const auto it = arrays.find(name);
  if (it == arrays.end())
    throw DataError(fmt::format("{}: model state lacks the {} array '{}'", where, kind, name));
  if (size && it->second.size() != *size)
    throw DataError(fmt::format("{}: model state array '{}' has {} values, expected {}", where,
                                name, it->second.size(), *size));
  return it->second;
}

}  // namespace

const std::vector<double>& ModelState::real(const std::string& name,
                                            std::optional<std::size_t> size) const {
  return find_array(reals, name, size, where, "float64");
}

const std::vector<std::int64_t>& ModelState::integer(const std::string& name,
                                                     std::optional<std::size_t> size) const {
  return find_array(integers, name, size, where, "int64");
}

void ModelState::require_finite(std::initializer_list<const char*> names, const char* model) const {
  for (const char* name : names)
    for (const double v : real(name))
      if (!std::isfinite(v))
        throw DataError(fmt::format("{}: {} state is not finite", where, model));
}

const ModelState& ModelState::child(const std::string& name) const {
  const auto it = children.find(name);
  if (it == children.end())
    throw DataError(fmt::format("{}: model state lacks the group '{}'", where, name));
  return it->second;
}

}  // namespace hpcad
