#include "hpcad/io/generate.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/core/interrupt.hpp"
#include "hpcad/core/rng.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/output_path.hpp"

namespace hpcad {
namespace {
constexpr int kClusters = 3;
constexpr double kClusterBox = 5.0;   // cluster centres uniform in [-5, 5]^d
constexpr double kAnomalyBox = 15.0;  // anomalies uniform in [-15, 15]^d
/// Room for the file's metadata beside the two datasets.
constexpr std::int64_t kMetadataReserve = std::int64_t{64} << 10;

/// Rows [begin, begin + rows) of the dataset: each depends only on (seed, row index).
void fill_rows(const GenerateOptions& options, const std::vector<double>& centres, Index begin,
               Index rows, std::vector<double>& values, std::vector<std::int8_t>& labels) {
  const Index d = options.features;
  values.resize(static_cast<std::size_t>(rows * d));
  labels.resize(static_cast<std::size_t>(rows));
  for (Index i = 0; i < rows; ++i) {
    RandomStream rng(options.seed, "generate.row", static_cast<std::uint64_t>(begin + i));
    const bool anomaly = rng.uniform() < options.anomaly_fraction;
    labels[i] = anomaly ? 1 : 0;
    const auto cluster = static_cast<Index>(rng.below(kClusters));
    for (Index j = 0; j < d; ++j)
      values[i * d + j] =
          anomaly ? (2 * rng.uniform() - 1) * kAnomalyBox : centres[cluster * d + j] + rng.normal();
  }
}

/// Collective. Writes the whole file at `path`. Every collective HDF5 step is its own guarded
/// phase, so a failure (or a SIGTERM) on one rank is agreed on before the next collective.
void write_generated(Comm& comm, const GenerateOptions& options, const std::vector<double>& centres,
                     const std::string& path, const Log& log) {
  const Index n = options.rows, d = options.features;
  std::optional<h5::File> file;
  h5::Handle x, y;
  guarded_phase(comm, "generate", [&] {
    file.emplace(h5::File::create(comm, path));
    x = h5::create_dataset(*file, "X", H5T_IEEE_F64LE, n, d);
    y = h5::create_dataset(*file, "y", H5T_STD_I8LE, n, 0);
    if (comm.rank() == 0) reserve_space(path, n * (d * 8 + 1) + kMetadataReserve);
  });
  const IndexRange mine = partition_rows(n, comm.size(), comm.rank());
  const Index block = options.block_rows;
  const std::int64_t blocks = comm.allreduce_value(
      static_cast<std::int64_t>((mine.size() + block - 1) / block), ReduceOp::kMax);
  std::vector<double> values;
  std::vector<std::int8_t> labels;
  for (std::int64_t b = 0; b < blocks; ++b) {
    const Index begin = std::min(mine.end, mine.begin + b * block);
    const Index rows = std::min(block, mine.end - begin);
    guarded_phase(comm, "generate", [&] {
      throw_if_interrupted();
      fill_rows(options, centres, begin, rows, values, labels);
      h5::write_rows(*file, x.id(), H5T_NATIVE_DOUBLE, begin, rows, d, values.data());
    });
    guarded_phase(comm, "generate", [&] {
      h5::write_rows(*file, y.id(), H5T_NATIVE_INT8, begin, rows, 0, labels.data());
    });
    if (b % 16 == 15) log.info("generate: {} of {} blocks", b + 1, blocks);
  }
  guarded_phase(comm, "generate", [&] {
    h5::write_attribute(
        x.id(), "generator",
        fmt::format("hpcad generate: seed {}, anomaly fraction {}, {} Gaussian clusters",
                    options.seed, options.anomaly_fraction, kClusters));
    x.close(path);
    y.close(path);
  });
  guarded_phase(comm, "generate", [&] { file->close(); });
}

}  // namespace

void generate_dataset(Comm& comm, const GenerateOptions& options, const std::string& job_id,
                      const Log& log) {
  std::vector<double> centres(static_cast<std::size_t>(kClusters * options.features));
  RandomStream centre_rng(options.seed, "generate.centers", 0);
  for (double& c : centres) c = (2 * centre_rng.uniform() - 1) * kClusterBox;

  const bool root = comm.rank() == 0;
  const std::string tag = comm.broadcast_string(root ? temporary_tag(job_id) : "", 0);
  const std::string temporary = temporary_path(options.output, tag);
  std::optional<OutputLock> lock;  // rank 0, until the temporary is renamed or removed
  guarded_phase(comm, "generate", [&] {
    if (root) lock.emplace(claim_output(options.output, "--output", tag, log));
  });
  try {
    write_generated(comm, options, centres, temporary, log);
    guarded_phase(comm, "generate", [&] {
      if (root) commit_output(temporary, options.output);
    });
  } catch (...) {
    if (root) discard_output(temporary);
    throw;
  }
}

}  // namespace hpcad
