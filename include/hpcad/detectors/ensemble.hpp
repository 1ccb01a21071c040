#pragma once
/// An ensemble: several detectors fitted on the same rows, their scores made comparable by
/// statistics over all training rows, then combined into one score.
///
/// Members (`[[detector.members]]`) are any registered detectors but ensembles, each with its
/// own parameters, validated as a top-level detector's; each fits from the same RowSource in
/// turn, so every pass stays streaming. Normalisation, from exact global quantiles of each
/// member's training scores (so the model is bitwise identical for any rank count) and stored
/// in the model (so `hpcad score` normalises new rows exactly as the training rows):
///  - "rank": the score's position in the empirical distribution of the training scores,
///    read from a table of kQuantilePoints quantiles by linear interpolation, in [0, 1];
///  - "robust_z": (s - median) / (1.4826 MAD) of the training scores.
/// Combination: mean, max or weighted mean (member `weight`) of the normalised scores.
///
/// `seed` >= 0 replaces every member's seed (one key reseeds the whole ensemble); -1 leaves
/// each member its own. `standardize` scales the rows by the global mean and standard
/// deviation (stored in the model) before the members see them, in fit and in scoring.
#include <memory>
#include <vector>

#include "hpcad/detectors/detector.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {

class Ensemble final : public Detector {
 public:
  /// Quantiles of each member's training scores kept for "rank": probabilities k / 1000.
  static constexpr Index kQuantilePoints = 1001;

  /// `member_types`: the detectors a member may be (every registered one but the ensemble).
  static std::vector<ParamSpec> param_specs(const std::vector<DetectorInfo>& member_types);
  /// Builds the (unfitted) members; ConfigError naming the member for an empty list, an
  /// invalid or repeated name, or weights that sum to zero.
  explicit Ensemble(ParamSet params);

  std::string type() const override { return "ensemble"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  bool scores_collectively() const override;
  void score_collective(Comm& comm, RowSource& rows, std::span<double> out) const override;
  std::vector<std::string> part_names() const override;
  void score_parts(const RowBlock& block, std::span<double> out,
                   std::span<const std::span<double>> parts) const override;
  void score_parts_collective(Comm& comm, RowSource& rows, std::span<double> out,
                              std::span<const std::span<double>> parts) const override;
  Index n_features() const override { return members_.front().detector->n_features(); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  struct Member {
    std::string name;   ///< unique; the scores file's /scores/<name>
    std::string label;  ///< "detector.members[i] (type)", for messages
    double weight = 1;  ///< in the combination (1 unless combine = "weighted_mean")
    std::unique_ptr<Detector> detector;
  };

  /// Local. Each member's raw scores of the block into parts[m].
  void score_members(const RowBlock& block, std::span<const std::span<double>> parts) const;
  /// Collective. Each member's raw scores of this rank's rows of `rows` into parts[m].
  void score_members_collective(Comm& comm, RowSource& rows,
                                std::span<const std::span<double>> parts) const;
  /// Local. The combined normalised scores of the members' raw scores.
  void combine(std::span<const std::span<double>> parts, std::span<double> out) const;
  double normalize(std::size_t member, double score) const;
  /// Collective. The normalisation statistics from every training row's member scores.
  void fit_normalization(FitContext& context, RowSource& source);

  ParamSet params_;
  ColumnScaling scaling_;  ///< applied before the members (the identity unless standardize)
  std::vector<Member> members_;
  bool rank_normalization_ = true;
  bool combine_max_ = false;
  double weight_total_ = 0;
  std::vector<double> quantiles_;       ///< rank: kQuantilePoints per member, ascending
  std::vector<double> median_, scale_;  ///< robust_z: per member
};

}  // namespace hpcad
