#include "hpcad/io/input.hpp"

#include <fmt/format.h>

#include <cmath>

#include "hpcad/core/error.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string column_name(const RowSlab& slab, Index j) {
  return j < static_cast<Index>(slab.schema.feature_names.size())
             ? fmt::format("'{}'", slab.schema.feature_names[j])
             : fmt::format("{}", j);
}

/// Local. Rejects non-finite features, naming the global row and column.
void reject_non_finite(const RowSlab& slab, const std::string& path) {
  const Index d = slab.n_features();
  for (Index i = 0; i < slab.n_rows(); ++i)
    for (Index j = 0; j < d; ++j)
      if (!std::isfinite(slab.values[i * d + j]))
        throw DataError(fmt::format(
            "{}: row {}, column {}: value is {} (set input.nan_policy = \"impute\" to replace "
            "non-finite values with the column mean)",
            path, slab.global_begin + i, column_name(slab, j), slab.values[i * d + j]));
}

/// Collective. Replaces non-finite features with the global mean of the column's finite
/// values. Consistent on every rank, so it may throw without breaking agreement.
void impute_non_finite(Comm& comm, RowSlab& slab, const std::string& path, InputStats* stats) {
  const Index d = slab.n_features();
  const Index rows = slab.n_rows();
  // Sums and counts are mergeable across ranks; the mean is formed once, globally.
  std::vector<double> sums(static_cast<std::size_t>(d), 0.0);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(d) + 1, 0);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < d; ++j) {
      const double x = slab.values[i * d + j];
      if (std::isfinite(x)) {
        sums[j] += x;
        ++counts[j];
      } else {
        ++counts[d];
      }
    }
  comm.allreduce(sums, ReduceOp::kSum);
  comm.allreduce(counts, ReduceOp::kSum);
  for (Index j = 0; j < d; ++j)
    if (counts[j] == 0 && slab.global_rows > 0)
      throw DataError(fmt::format("{}: column {} has no finite value to impute from", path,
                                  column_name(slab, j)));
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < d; ++j)
      if (double& x = slab.values[i * d + j]; !std::isfinite(x))
        x = sums[j] / static_cast<double>(counts[j]);
  if (stats) stats->imputed_values = counts[d];
}

}  // namespace

std::string resolve_format(const InputSpec& spec) {
  if (spec.format != "auto") return spec.format;
  for (const char* ext : {".h5", ".hdf5", ".he5", ".hdf"})
    if (ends_with(spec.path, ext)) return "hdf5";
  for (const char* ext : {".parquet", ".pq"})
    if (ends_with(spec.path, ext)) return "parquet";
  for (const char* ext : {".csv", ".tsv"})
    if (ends_with(spec.path, ext)) return "csv";
  throw ConfigError(fmt::format(
      "input.path = \"{}\": cannot tell the format from the name; set input.format to \"hdf5\", "
      "\"parquet\" or \"csv\"",
      spec.path));
}

RowSlab read_input(Comm& comm, const InputSpec& spec, InputStats* stats) {
  BlockSource source(comm, open_input_reader(comm, spec), 0);
  RowSlab slab = read_all(source);
  if (stats)
    stats->skipped_rows = comm.allreduce_value(source.reader().skipped_rows(), ReduceOp::kSum);
  guarded_phase(comm, "validate", [&] {
    if (spec.nan_policy == "error") reject_non_finite(slab, spec.path);
  });
  if (spec.nan_policy == "impute") impute_non_finite(comm, slab, spec.path, stats);
  return slab;
}

}  // namespace hpcad
