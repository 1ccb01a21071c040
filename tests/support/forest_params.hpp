#pragma once
// Isolation-forest hyperparameters for tests: the defaults with the three that tests vary.
#include <cstdint>

#include "hpcad/detectors/isolation_forest.hpp"

namespace hpcad::testing_support {

inline ParamSet forest_params(std::int64_t trees, std::int64_t sample, std::int64_t seed) {
  ParamSet p(IsolationForest::param_specs());
  p.set("n_trees", trees);
  p.set("sample_size", sample);
  p.set("seed", seed);
  return p;
}

}  // namespace hpcad::testing_support
