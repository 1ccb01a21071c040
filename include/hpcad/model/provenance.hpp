#pragma once
#include <string>

#include "hpcad/core/types.hpp"

namespace hpcad {

/// Where a model or a set of scores came from; one record shared by the model file, the
/// scores file and the report.
struct Provenance {
  std::string command;  ///< run, train or score
  std::string input_path;
  Index rows = 0;
  int ranks = 1;
  std::string created;        ///< ISO 8601 UTC
  std::string config_sha256;  ///< of the config text with its --set overrides
  std::string job_id;
  std::string hpcad_version = HPCAD_VERSION;
};

}  // namespace hpcad
