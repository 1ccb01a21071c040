#pragma once
/// Nearest-neighbour detectors on (optionally standardised) rows: knn — the Euclidean
/// distance to the k-th nearest neighbour, or the mean distance to the k nearest (PyOD's KNN,
/// method "largest" / "mean") — and lof — the local outlier factor (Breunig et al. 2000, as
/// scikit-learn's LocalOutlierFactor). A row is never its own neighbour.
///
/// Two modes:
/// - "sample" (the default): neighbours are searched in a reference set of sample_size rows
///   drawn by global row index (all rows if there are fewer), stored in the model together
///   with, for lof, each reference row's k-distance and local reachability density (lrd).
///   Scoring is local, const and thread-safe, O(n * m / P), so it also scores new data in
///   `hpcad score`. It is the default because it is the only mode that scales to large n and
///   that scores new data against the training data. A scored row that is itself a reference
///   row (the same global row index and bitwise the same standardised values — the training
///   data scored after the fit) does not count itself, so with sample_size >= rows the scores
///   equal the exact ones (scikit-learn's negative_outlier_factor_ / kneighbors() on the
///   training data), and a row outside the sample is scored like scikit-learn's
///   score_samples on new data (novelty semantics).
/// - "exact": every row's neighbours are searched among all rows of the input being scored
///   (transductive, as scikit-learn's fit_predict). The rows travel around a ring of ranks,
///   each rank keeping a k-best list for its own rows: O(n^2 / P) work, each rank holding its
///   own rows and one visiting rank's rows. lof makes more ring passes (the neighbours'
///   k-distances, then their lrd), carrying one value per row. When a rank's rows do not fit
///   what the memory budget leaves (RowSource::spare_bytes) on some rank, every rank works out
///   of core instead: its rows in query chunks that fit, each chunk's lists from a pass over
///   every rank's rows travelling around the ring block by block (lof: three rounds of
///   chunks); the same lists, so bitwise the same scores. The model holds only the
///   standardisation, so `hpcad score` with an exact model scores the new input against itself.
///
/// Ties in distance are broken by global row index, so neighbour lists and scores are
/// bitwise identical for any rank count.
#include <vector>

#include "hpcad/detectors/detector.hpp"

namespace hpcad {

class ExactSearch;

/// The shared implementation of knn and lof.
class NeighborDetector : public Detector {
 public:
  const ParamSet& params() const override { return params_; }
  void fit(FitContext& context, RowSource& source) override;
  /// Local (mode "sample" only).
  void score(const RowBlock& block, std::span<double> out) const override;
  bool scores_collectively() const override;
  void score_collective(Comm& comm, RowSource& rows, std::span<double> out) const override;
  Index n_features() const override { return static_cast<Index>(mean_.size()); }
  ModelState save_state() const override;
  void load_state(Index n_features, const ModelState& state) override;

  /// A candidate neighbour: squared distance and global row index, ordered by both (the
  /// index breaks ties, so the k nearest are the same whatever order they are met in).
  struct Neighbor {
    double squared;
    Index row;
    bool operator<(const Neighbor& other) const {
      return squared < other.squared || (squared == other.squared && row < other.row);
    }
  };

 protected:
  /// What the k nearest give: the k-th distance, the mean distance, or the LOF.
  enum class Kind { kLargest, kMean, kLof };
  NeighborDetector(ParamSet params, Kind kind) : params_(std::move(params)), kind_(kind) {}

 private:
  Index k() const { return params_.integer("n_neighbors"); }
  bool exact() const { return params_.string("mode") == "exact"; }
  void standardize(std::span<const double> x, double* z) const;
  /// Collective. Each reference row's k-distance and lrd within the reference set, every rank
  /// computing a share of the rows.
  void fit_reference_density(Comm& comm);
  /// Collective. Mode "exact": the scores of this rank's rows from the k-best lists `searcher`
  /// gives chunk by chunk (lof: three rounds of lists, for the k-distances, lrds and scores).
  void score_exact(Comm& comm, RowSource& rows, ExactSearch& searcher, std::span<double> out) const;
  /// The score of a row from its k nearest (sorted) and, for lof, their k-distances and lrds
  /// (`neighbor_k_distance` is then also used to compute the row's own lrd).
  double finish(std::span<const Neighbor> nearest, std::span<const double> neighbor_k_distance,
                std::span<const double> neighbor_lrd) const;

  ParamSet params_;
  Kind kind_;
  std::vector<double> mean_, scale_;  ///< z = (x - mean) / scale
  // Mode "sample":
  std::vector<double> reference_;        ///< m x d standardised rows
  std::vector<double> reference_tiles_;  ///< the same, tiled for the search (not saved)
  std::vector<Index> reference_rows_;    ///< their global row indices, ascending
  std::vector<double> k_distance_;       ///< lof: per reference row
  std::vector<double> reachability_;     ///< lof: per reference row, its lrd
};

class Knn final : public NeighborDetector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Knn(ParamSet params)
      : NeighborDetector(params, params.string("method") == "mean" ? Kind::kMean : Kind::kLargest) {
  }
  std::string type() const override { return "knn"; }
};

class Lof final : public NeighborDetector {
 public:
  static std::vector<ParamSpec> param_specs();
  explicit Lof(ParamSet params) : NeighborDetector(std::move(params), Kind::kLof) {}
  std::string type() const override { return "lof"; }
};

}  // namespace hpcad
