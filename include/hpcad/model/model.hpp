#pragma once
/// A model: the feature transforms, the detector, and the provenance of their training —
/// everything `hpcad score` needs to score new data exactly as the training job would.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hpcad/detectors/detector.hpp"
#include "hpcad/features/transform.hpp"
#include "hpcad/features/transformed_source.hpp"
#include "hpcad/model/provenance.hpp"

namespace hpcad {

class Model {
 public:
  Schema input_schema;  ///< raw input columns, as read
  std::vector<std::unique_ptr<Transform>> transforms;
  std::unique_ptr<Detector> detector;
  Provenance training;  ///< of the job that fitted the model

  /// Collective. Fits the transforms in order (each on the previous steps' output), then
  /// the detector on the features; every rank ends with the identical model.
  void fit(FitContext& context, RowSource& input, const std::string& input_name);
  /// Collective. The first half of fit(): the transforms only.
  void fit_transforms(FitContext& context, RowSource& input, const std::string& input_name);

  /// Local. The detector's input columns.
  Schema feature_schema() const;

  /// Collective. The detector's view of `input`: the fitted transforms applied block by
  /// block, non-finite results rejected; kept in memory after the first pass if they fit
  /// `cache_budget_bytes` (TransformedSource).
  std::unique_ptr<TransformedSource> features(RowSource& input, const std::string& input_name,
                                              std::int64_t cache_budget_bytes = 0) const;

 private:
  std::unique_ptr<TransformedSource> first_steps(RowSource& input, std::size_t count,
                                                 const std::string& input_name,
                                                 bool reject_non_finite,
                                                 std::int64_t cache_budget_bytes = 0) const;
};

}  // namespace hpcad
