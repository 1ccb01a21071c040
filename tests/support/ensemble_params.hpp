#pragma once
// Ensemble hyperparameters for tests: members by type at their defaults, then adjusted.
#include <string>
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad::testing_support {

/// An ensemble of `types` (each member at its detector's defaults, kmeans with 3 clusters and
/// iforest with 25 trees so tiny tables fit).
inline ParamSet ensemble_params(const std::vector<std::string>& types,
                                const std::string& normalization = "rank",
                                const std::string& combine = "mean") {
  const std::vector<ParamSpec>& specs = find_detector("ensemble").params;
  const ParamSpec& member_list = *find_spec(specs, "members");
  std::vector<ParamSet> members;
  for (const std::string& type : types) {
    ParamSet member(*member_list.table_fields(type));
    member.set(kTableTypeKey, type);
    if (type == "kmeans") member.set("n_clusters", std::int64_t{3});
    if (type == "iforest") member.set("n_trees", std::int64_t{25});
    members.push_back(member);
  }
  ParamSet params(specs);
  params.set("members", members);
  params.set("normalization", normalization);
  params.set("combine", combine);
  return params;
}

}  // namespace hpcad::testing_support
