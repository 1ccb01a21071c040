#pragma once
/// The scores file: /score float64[n] and /is_anomaly int8[n] in input row order (and, for an
/// ensemble, each member's raw score as /scores/<name> float64[n]), with the run's provenance
/// as root attributes, and optionally the detector's input as /features float64[n x d] with
/// attribute `names`. Written collectively by all ranks.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/sha256.hpp"
#include "hpcad/core/types.hpp"
#include "hpcad/data/row_slab.hpp"
#include "hpcad/model/provenance.hpp"

namespace hpcad {

inline constexpr const char* kScoresFormat = "hpcad-scores";

/// Root attributes of a scores file; identical on every rank.
struct ScoreFileInfo {
  double threshold = 0;
  double contamination = 0;  ///< NaN when a fixed score threshold was used
  double achieved_fraction = 0;
  Index flagged = 0;
  std::string model_sha256;
  std::string config_text;
  std::string detector;
  Provenance provenance;  ///< of this scoring job
};

/// The group holding partial scores (an ensemble's members), one dataset per part.
inline constexpr const char* kPartScoresGroup = "scores";

/// One partial score column, written as /scores/<name> beside /score.
struct ScoreColumn {
  std::string name;
  std::span<const double> values;  ///< this rank's rows, as the scores
};

/// A scores file being written: created before scoring, so that the features can be
/// written block by block as they are computed (nothing of them stays resident), and
/// completed with the scores once the threshold is known.
class ScoreFileWriter {
 public:
  /// Collective. Creates `path` for this rank's rows [global_begin, global_begin +
  /// local_rows) of a table with `global_rows` rows; with `features`, a /features dataset
  /// of those columns; a /scores/<name> dataset per entry of `part_names`. Reserves the
  /// file's space up front (a full disk fails here).
  ScoreFileWriter(Comm& comm, std::string path, Index global_begin, Index local_rows,
                  Index global_rows, const std::optional<Schema>& features,
                  std::vector<std::string> part_names, std::int64_t config_bytes);
  ~ScoreFileWriter();

  /// Collective, called equally often on every rank (an empty block where a rank has no
  /// more rows). Writes rows [global_begin, global_begin + rows) of /features.
  void write_features(Index global_begin, Index rows, std::span<const double> values);

  /// Collective. Writes this rank's scores, their score > threshold flags, the parts' scores
  /// (in the order of part_names) and the attributes, closes the file, then reads everything
  /// this rank wrote back and compares it bit for bit (features by checksum), IoError naming
  /// the dataset when it differs.
  void finish(std::span<const double> scores, std::span<const ScoreColumn> parts,
              const ScoreFileInfo& info);

 private:
  struct Open;
  void verify_features(Index max_block_rows);

  Comm& comm_;
  std::string path_;
  Index global_begin_, local_rows_, global_rows_, n_features_ = 0;
  std::vector<std::string> part_names_;
  std::unique_ptr<Open> open_;
  Sha256 written_features_;  ///< this rank's /features bytes, in row order
  Index max_block_rows_ = 0;
};

/// Collective. A scores file without features: ScoreFileWriter created and finished.
void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, std::span<const ScoreColumn> parts,
                      const ScoreFileInfo& info);

}  // namespace hpcad
