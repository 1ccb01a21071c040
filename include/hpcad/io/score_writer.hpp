#pragma once
/// The scores file: /score float64[n] and /is_anomaly int8[n] in input row order, with the
/// run's provenance as root attributes. Written collectively by all ranks.
#include <span>
#include <string>

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

/// Collective. Creates `path` and writes this rank's rows [global_begin, global_begin +
/// scores.size()) of a table with `global_rows` rows: scores and score > threshold flags.
void write_score_file(Comm& comm, const std::string& path, Index global_begin, Index global_rows,
                      std::span<const double> scores, const ScoreFileInfo& info);

}  // namespace hpcad
