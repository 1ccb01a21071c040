#pragma once
/// The detector contract and registry.
///
/// Every detector follows one pattern: fit from a RowSource (passes of mergeable statistics
/// combined by one reduction, or a sample gathered by global row index; see fit.hpp) ->
/// finalize -> score blocks of rows (local, const, thread-safe). The model depends only on
/// the data and the parameters, never on the rank count. A new detector is one file pair
/// plus one line in detector_registry().
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/fit.hpp"
#include "hpcad/detectors/model_state.hpp"
#include "hpcad/detectors/params.hpp"

namespace hpcad {

class Detector {
 public:
  virtual ~Detector() = default;

  /// Registry name, e.g. "iforest".
  virtual std::string type() const = 0;
  virtual const ParamSet& params() const = 0;

  /// Collective. Fits the global model from every rank's rows; afterwards every rank holds
  /// the identical model.
  virtual void fit(FitContext& context, RowSource& source) = 0;

  /// Local, const and thread-safe. Anomaly scores (higher = more anomalous) of the block's
  /// rows into `out` (one per row).
  virtual void score(const RowBlock& block, std::span<double> out) const = 0;

  /// True when a row's score depends on the other rows being scored (exact kNN / LOF: the
  /// neighbours are searched among all rows of the input): the driver then calls
  /// score_collective once, on every rank, instead of score() block by block.
  virtual bool scores_collectively() const { return false; }
  /// Collective. Scores of all of this rank's rows of `rows` (passes over the source from its
  /// start) into `out`, in local row order. The whole input, not a block, because the rows a
  /// score depends on may lie in any block of any rank. Default: score() block by block.
  virtual void score_collective(Comm& comm, RowSource& rows, std::span<double> out) const;

  /// Names of the partial scores this detector combines (an ensemble's members), which the
  /// scores file keeps beside the score; empty for a single detector.
  virtual std::vector<std::string> part_names() const { return {}; }
  /// Local, const and thread-safe: score(), also writing part p's scores of the block's rows
  /// to parts[p].
  virtual void score_parts(const RowBlock& block, std::span<double> out,
                           std::span<const std::span<double>> parts) const {
    check_internal(parts.empty(), "score parts of a detector without parts");
    score(block, out);
  }
  /// Collective: score_collective(), also writing part p's scores of this rank's rows to
  /// parts[p].
  virtual void score_parts_collective(Comm& comm, RowSource& rows, std::span<double> out,
                                      std::span<const std::span<double>> parts) const {
    check_internal(parts.empty(), "score parts of a detector without parts");
    score_collective(comm, rows, out);
  }

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
