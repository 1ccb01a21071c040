#include "hpcad/io/input.hpp"

#include <fmt/format.h>

#include "hpcad/core/error.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {

std::string resolve_format(const InputSpec& spec) {
  if (spec.format != "auto") return spec.format;
  for (const char* ext : {".h5", ".hdf5", ".he5", ".hdf"})
    if (spec.path.ends_with(ext)) return kFormatHdf5;
  for (const char* ext : {".parquet", ".pq"})
    if (spec.path.ends_with(ext)) return kFormatParquet;
  for (const char* ext : {".csv", ".tsv"})
    if (spec.path.ends_with(ext)) return kFormatCsv;
  throw ConfigError(fmt::format(
      "input.path = \"{}\": cannot tell the format from the name; set input.format to \"hdf5\", "
      "\"parquet\" or \"csv\"",
      spec.path));
}

RowSlab read_input(Comm& comm, const InputSpec& spec) {
  BlockSource source(comm, open_input_reader(comm, spec), 0);
  return read_all(source);
}

}  // namespace hpcad
