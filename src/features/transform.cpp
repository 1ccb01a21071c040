#include "hpcad/features/transform.hpp"

#include "hpcad/core/registry.hpp"
#include "hpcad/features/impute.hpp"

namespace hpcad {

const std::vector<TransformInfo>& transform_registry() {
  static const std::vector<TransformInfo> registry = {
      {"impute", "replace non-finite values by a training-time statistic of the column",
       Impute::param_specs(), [](const ParamSet& p) { return std::make_unique<Impute>(p); }},
  };
  return registry;
}

const TransformInfo& find_transform(const std::string& type) {
  return find_registered(transform_registry(), type, "transform");
}

std::unique_ptr<Transform> make_transform(const std::string& type, const ParamSet& params) {
  return find_transform(type).make(params);
}

}  // namespace hpcad
