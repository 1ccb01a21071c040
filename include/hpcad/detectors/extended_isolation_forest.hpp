#pragma once
/// Extended isolation forest (Hariri, Carrasco Kind, Brunner 2019): isolation trees whose
/// splits are random hyperplanes instead of axis-parallel cuts. At each node the normal
/// vector is drawn from N(0, I) with (d - 1 - extension_level) random coordinates set to
/// zero (extension_level 0: axis-parallel, as the isolation forest; d - 1: fully
/// extended), and the hyperplane passes through a point drawn uniformly from the node's
/// bounding box; rows with x . normal <= point . normal go left. Path length = depth +
/// c(leaf size), score = 2^(-E[h] / c(sample_size)), as the isolation forest. With
/// standardize the trees see globally standardised columns (exact moments),
/// so a hyperplane's random direction weighs every feature alike whatever its units.
///
/// Distributed training: the isolation forest's global sampling (grow_sampled_trees): tree t's
/// sample by global row index from (seed, "eif.sample", t), grown by one rank from (seed,
/// "eif.split", t), trees allgathered in order; the model depends only on the data and the seed.
#include <cstdint>
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

class ExtendedIsolationForest final : public Detector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit ExtendedIsolationForest(ParamSet params) : params_(std::move(params)) {}

  std::string type() const override { return "eif"; }
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  void score(const RowBlock& block, std::span<double> out) const override;
  Index n_features() const override { return n_features_; }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

 private:
  /// Local. The extension level for `n_features` features (the parameter, -1 = d - 1);
  /// ConfigError when it exceeds d - 1.
  Index extension_level(Index n_features) const;
  void standardize(std::span<const double> x, double* z) const;

  ParamSet params_;
  Index n_features_ = 0;
  Index sample_size_ = 0;             ///< effective: min(sample_size, rows)
  std::vector<double> mean_, scale_;  ///< trees see z = (x - mean) / scale
  // The model: all trees' nodes, tree t at [tree_offsets_[t], tree_offsets_[t + 1]). Node i
  // is a leaf when left_[i] = -1 (value_[i] = depth + c(leaf size)); otherwise rows with
  // x . normal_[i d .. (i + 1) d) <= value_[i] go to left_[i], the others to left_[i] + 1.
  std::vector<std::int32_t> left_;
  std::vector<double> value_;
  std::vector<double> normal_;  ///< n_features per node, zero at leaves
  std::vector<Index> tree_offsets_{0};
};

}  // namespace hpcad
