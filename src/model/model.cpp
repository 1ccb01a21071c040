#include "hpcad/model/model.hpp"

#include <fmt/format.h>

#include "hpcad/core/error.hpp"

namespace hpcad {

std::unique_ptr<TransformedSource> Model::first_steps(RowSource& input, std::size_t count,
                                                      const std::string& input_name,
                                                      bool reject_non_finite,
                                                      std::int64_t cache_budget_bytes) const {
  std::vector<const Transform*> steps;
  for (std::size_t s = 0; s < count; ++s) steps.push_back(transforms[s].get());
  return std::make_unique<TransformedSource>(input, std::move(steps), input_name,
                                             reject_non_finite, cache_budget_bytes);
}

void Model::fit(FitContext& context, RowSource& input, const std::string& input_name) {
  fit_transforms(context, input, input_name);
  const auto detector_input = features(input, input_name);
  detector->fit(context, *detector_input);
}

void Model::fit_transforms(FitContext& context, RowSource& input, const std::string& input_name) {
  input_schema = input.info().schema;
  for (std::size_t s = 0; s < transforms.size(); ++s) {
    const auto step_input = first_steps(input, s, input_name, false);
    try {
      transforms[s]->fit(context, *step_input);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{}: feature step {}: {}", input_name, s, e.what()));
    }
  }
}

Schema Model::feature_schema() const {
  Schema schema = input_schema;
  for (const auto& step : transforms) schema = step->output_schema(schema);
  return schema;
}

std::unique_ptr<TransformedSource> Model::features(RowSource& input, const std::string& input_name,
                                                   std::int64_t cache_budget_bytes) const {
  return first_steps(input, transforms.size(), input_name, true, cache_budget_bytes);
}

}  // namespace hpcad
