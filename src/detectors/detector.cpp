#include "hpcad/detectors/detector.hpp"

#include "hpcad/core/registry.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/detectors/mahalanobis.hpp"
#include "hpcad/detectors/pca.hpp"

namespace hpcad {

const std::vector<DetectorInfo>& detector_registry() {
  static const std::vector<DetectorInfo> registry = {
      {"iforest", "isolation forest (Liu, Ting, Zhou 2008)", IsolationForest::param_specs(),
       [](const ParamSet& p) { return std::make_unique<IsolationForest>(p); }},
      {"pca", "PCA reconstruction error (standardised, top components)", Pca::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Pca>(p); }},
      {"mahalanobis", "Mahalanobis distance under the global (optionally shrunk) covariance",
       Mahalanobis::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Mahalanobis>(p); }},
  };
  return registry;
}

const DetectorInfo& find_detector(const std::string& type) {
  return find_registered(detector_registry(), type, "detector type");
}

std::unique_ptr<Detector> make_detector(const std::string& type, const ParamSet& params) {
  return find_detector(type).make(params);
}

}  // namespace hpcad
