#pragma once
/// The detector contract and registry.
///
/// Every detector follows one pattern: fit on the local slab -> combine partial models or
/// sufficient statistics through Comm (fixed order, so any rank count gives the same model)
/// -> finalize -> score blocks of rows locally. A new detector is one file pair plus one
/// line in detector_registry().
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/data/row_slab.hpp"
#include "hpcad/detectors/params.hpp"

namespace hpcad {

/// A detector's learned state as named flat arrays (hyperparameters are kept apart, in
/// ParamSet), so model files need no detector-specific code.
struct ModelState {
  std::map<std::string, std::vector<double>> reals;
  std::map<std::string, std::vector<std::int64_t>> integers;
  bool operator==(const ModelState&) const = default;
};

class Detector {
 public:
  virtual ~Detector() = default;

  /// Registry name, e.g. "iforest".
  virtual std::string type() const = 0;
  virtual const ParamSet& params() const = 0;

  /// Collective. Fits the global model from every rank's slab; afterwards every rank holds
  /// the identical model.
  virtual void fit(Comm& comm, const RowSlab& slab, const Log& log) = 0;

  /// Local. Anomaly scores (higher = more anomalous) for `rows` (row-major, n_features()
  /// columns) into `out` (one per row).
  virtual void score(std::span<const double> rows, std::span<double> out) const = 0;

  /// Number of features the model was fitted on.
  virtual Index n_features() const = 0;

  virtual ModelState save_state() const = 0;
  /// Restores a fitted model; throws DataError naming the inconsistent array.
  virtual void load_state(Index n_features, const ModelState& state) = 0;
};

struct DetectorInfo {
  std::string type;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Detector>(const ParamSet&)> make;
};

/// All registered detectors.
const std::vector<DetectorInfo>& detector_registry();

/// The registry entry for `type`; throws ConfigError listing the valid types.
const DetectorInfo& find_detector(const std::string& type);

/// A new, unfitted detector.
std::unique_ptr<Detector> make_detector(const std::string& type, const ParamSet& params);

}  // namespace hpcad
