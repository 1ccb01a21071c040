#pragma once
/// Synthetic labeled data for demos and benchmarks, written collectively.
#include <cstdint>
#include <string>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/log.hpp"
#include "hpcad/core/types.hpp"

namespace hpcad {

struct GenerateOptions {
  Index rows = 0;
  Index features = 0;
  double anomaly_fraction = 0.01;
  std::uint64_t seed = 1;
  std::string output;
  Index block_rows = 65536;
};

/// Collective. Writes /X float64[rows x features] and /y int8[rows] to options.output
/// (under a temporary name, renamed when complete; rank 0 holds a lock on the output). Row i
/// depends only on (seed, i): normal rows come from a mixture of three unit Gaussians, anomalies
/// (probability anomaly_fraction) are uniform over a box 3x wider, so the file is identical for any
/// rank count.
void generate_dataset(Comm& comm, const GenerateOptions& options, const std::string& job_id,
                      const Log& log);

}  // namespace hpcad
