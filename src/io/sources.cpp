#include "hpcad/io/sources.hpp"

#include <fmt/format.h>

#include "block_readers.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {

void check_labels(std::span<const double> labels, Index global_begin, const std::string& path) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] != 0.0 && labels[i] != 1.0)
      throw DataError(fmt::format("{}: row {}: label is {}, expected 0 (normal) or 1 (anomaly)",
                                  path, global_begin + static_cast<Index>(i), labels[i]));
}

std::unique_ptr<BlockReader> open_input_reader(Comm& comm, const InputSpec& spec) {
  std::unique_ptr<BlockReader> reader;
  // HDF5 and Parquet open locally; the CSV opening is collective and agrees on its own
  // failures before each of its collectives, which this phase then passes on.
  guarded_phase(comm, "read", [&] {
    const std::string format = resolve_format(spec);
    if (format == kFormatHdf5) {
      reader = open_hdf5_reader(spec, comm.size(), comm.rank());
    } else if (format == kFormatParquet) {
      reader = open_parquet_reader(spec, comm.size(), comm.rank());
    } else if (format == kFormatCsv) {
      reader = open_csv_reader(comm, spec);
    } else {
      throw ConfigError(
          fmt::format("input.format = \"{}\": expected \"auto\", \"{}\", \"{}\" or \"{}\"", format,
                      kFormatHdf5, kFormatParquet, kFormatCsv));
    }
  });
  return reader;
}

}  // namespace hpcad
