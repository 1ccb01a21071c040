#include "hpcad/detectors/detector.hpp"

#include "hpcad/core/registry.hpp"
#include "hpcad/detectors/extended_isolation_forest.hpp"
#include "hpcad/detectors/hbos.hpp"
#include "hpcad/detectors/ensemble.hpp"
#include "hpcad/detectors/isolation_forest.hpp"
#include "hpcad/detectors/kmeans.hpp"
#include "hpcad/detectors/mahalanobis.hpp"
#include "hpcad/detectors/neighbors.hpp"
#include "hpcad/detectors/pca.hpp"
#include "hpcad/detectors/ocsvm.hpp"
#include "hpcad/detectors/autoencoder.hpp"

namespace hpcad {

void Detector::score_collective(Comm&, RowSource& rows, std::span<double> out) const {
  RowBlock block;
  rows.rewind();
  while (rows.next(block)) {
    const Index at = block.global_begin - rows.local_begin();
    score(block, out.subspan(static_cast<std::size_t>(at), static_cast<std::size_t>(block.n_rows)));
  }
}

namespace {

template <typename D>
DetectorInfo entry(std::string type, std::string description) {
  return {std::move(type), std::move(description), D::param_specs(),
          [](const ParamSet& p) { return std::make_unique<D>(p); }};
}

/// Every detector but the ensemble, whose members are these.
const std::vector<DetectorInfo>& single_detectors() {
  static const std::vector<DetectorInfo> registry = {
      entry<IsolationForest>("iforest", "isolation forest (Liu, Ting, Zhou 2008)"),
      entry<Pca>("pca", "PCA reconstruction error (standardised, top components)"),
      entry<Mahalanobis>("mahalanobis", "Mahalanobis distance under the global covariance"),
      entry<KMeans>("kmeans", "distance to the nearest k-means centre (standardised)"),
      entry<Knn>("knn", "distance to the k-th nearest neighbour (standardised)"),
      entry<Lof>("lof", "local outlier factor (Breunig et al. 2000, standardised)"),
      entry<Hbos>("hbos", "histogram-based outlier score (Goldstein & Dengel 2012, as PyOD)"),
      entry<ExtendedIsolationForest>("eif", "extended isolation forest (Hariri et al. 2019)"),
      entry<OneClassSvm>("ocsvm", "one-class SVM: Nystroem features, SGD on the linear objective"),
      entry<Autoencoder>("autoencoder", "reconstruction error of a small dense autoencoder"),
  };
  return registry;
}

}  // namespace

const std::vector<DetectorInfo>& detector_registry() {
  static const std::vector<DetectorInfo> registry = [] {
    std::vector<DetectorInfo> all = single_detectors();
    all.push_back({"ensemble", "normalised member scores combined (see ensemble.hpp)",
                   Ensemble::param_specs(single_detectors()),
                   [](const ParamSet& p) { return std::make_unique<Ensemble>(p); }});
    return all;
  }();
  return registry;
}

const DetectorInfo& find_detector(const std::string& type) {
  return find_registered(detector_registry(), type, "detector type");
}

std::unique_ptr<Detector> make_detector(const std::string& type, const ParamSet& params) {
  return find_detector(type).make(params);
}

}  // namespace hpcad
