#pragma once
/// The generic train / score driver that connects detectors, I/O and Comm.
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/log.hpp"

namespace hpcad {

enum class JobKind { kRun, kTrain, kScore };

struct JobRequest {
  JobKind kind = JobKind::kRun;
  std::string config_path;
  std::vector<std::string> overrides;  ///< "section.key=value"
  std::string model_path;              ///< score: the model to load
  std::string working_directory;       ///< anchors relative --set paths and --model
};

/// Collective. Runs one job. Every failure surfaces as a PeerError on every rank (the
/// failing rank's message, rank and phase), after temporary outputs are removed.
/// Returns a one-line human summary (meaningful on rank 0).
std::string run_job(Comm& comm, const JobRequest& request);

/// The job id used in temporary output names: $SLURM_JOB_ID if set, else rank 0's pid.
/// Collective.
std::string agree_job_id(Comm& comm);

}  // namespace hpcad
