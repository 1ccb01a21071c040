#pragma once
/// The job configuration: a strict TOML file plus `--set section.key=value` overrides.
///
/// Unknown sections or keys, wrong types and out-of-range values are errors naming the
/// file, line and key (or the --set argument), with the valid keys listed and the closest
/// one suggested. Relative paths in the file resolve against the file's directory; paths
/// given with --set resolve against the current directory.
#include <optional>
#include <string>
#include <vector>

#include "hpcad/detectors/params.hpp"
#include "hpcad/io/input.hpp"

namespace hpcad {

/// One `[features]` step: a registered transform and its checked parameters.
struct FeatureStepConfig {
  std::string op;
  ParamSet params;
};

struct Config {
  std::string source_path;  ///< the config file ("" when parsed from text only)
  std::string text;         ///< the file's text, stored with outputs for provenance
  std::vector<std::string> overrides;
  InputSpec input;
  std::string detector_type = "iforest";
  ParamSet detector_params;
  std::string group_by;  ///< [features]: series key column ("" = one series)
  std::string order_by;  ///< [features]: order key column, checked ("" = none)
  std::vector<FeatureStepConfig> feature_steps;  ///< [features] steps, in order
  std::optional<double> contamination;  ///< exactly one of contamination / score_threshold
  std::optional<double> score_threshold;
  std::string output_path;  ///< scores HDF5
  std::string model_path;   ///< "" = do not write a model (run)
  std::string report_path;  ///< "" = no report
  std::string log_level = "info";
  Index score_block_rows = 4096;
  std::string memory_per_rank = "auto";  ///< "auto" or a size, see parse_memory_size

  /// The text and overrides as one string (what the outputs record and the hash covers).
  std::string provenance_text() const;
};

/// Parses and validates config text. `source_path` names the file in messages and anchors
/// relative paths; `working_directory` anchors relative paths given in overrides.
Config parse_config(const std::string& text, const std::string& source_path,
                    const std::vector<std::string>& overrides,
                    const std::string& working_directory);

/// Bytes of a memory size such as "512MiB", "2GiB", "64M" (K/M/G/T are binary units), or
/// nullopt for "auto". Throws ConfigError for anything else.
std::optional<std::int64_t> parse_memory_size(const std::string& text);

/// Every key as "section.key" with its default rendered as TOML ("" for required keys), for
/// documentation and the reference-config test. The default detector's keys are
/// "detector.<key>"; every other registered detector's are "detector.<type>.<key>".
std::vector<std::pair<std::string, std::string>> config_keys();

}  // namespace hpcad
