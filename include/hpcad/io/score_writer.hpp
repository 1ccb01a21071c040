#pragma once
/// The scores file: /score float64[n] and /is_anomaly int8[n] in input row order (and, for an
/// ensemble, each member's raw score as /scores/<name> float64[n]), with the run's provenance
/// as root attributes. Written collectively by all ranks.
#include <span>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"
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

/// Collective. Creates `path` and writes this rank's rows [global_begin, global_begin +
/// scores.size()) of a table with `global_rows` rows: scores, score > threshold flags and
/// each part's scores (none: no /scores group).
void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, std::span<const ScoreColumn> parts,
                      const ScoreFileInfo& info);

}  // namespace hpcad
