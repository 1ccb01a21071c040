#pragma once
/// Reading the input table: every rank reads its own slab of rows, whatever the format.
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/data/row_slab.hpp"

namespace hpcad {

/// The `[input]` section of a config.
struct InputSpec {
  std::string path;                  ///< file, directory or glob (absolute after config resolution)
  std::string format = "auto";       ///< "auto" (by extension), "hdf5", "parquet", "csv"
  std::string dataset = "X";         ///< HDF5: 2-D dataset (rows x features)
  std::string group = "/";           ///< HDF5 with `columns`: group holding 1-D datasets
  std::vector<std::string> columns;  ///< feature columns by name; empty = all
  /// [features] group_by / order_by (set from there): in CSV and Parquet they may hold text,
  /// read with key_from_text (data/text_key.hpp); Parquet reads them even when `columns` is
  /// empty, as BYTE_ARRAY columns too.
  std::vector<std::string> key_columns;
  std::string label;                 ///< label column/dataset; "" = none
  std::string nan_policy = "error";  ///< "error", or "impute" (an impute step in the model)
  Index block_rows = 65536;          ///< rows per read block
  std::string csv_delimiter = ",";
  bool skip_bad_rows = false;  ///< CSV: skip malformed rows instead of failing
};

/// The format a spec resolves to ("hdf5", "parquet" or "csv"); throws ConfigError when
/// "auto" cannot tell from the path.
std::string resolve_format(const InputSpec& spec);

/// Collective. Reads this rank's balanced share of the input into memory (tests and small
/// inputs; jobs stream through open_input_reader). Labels are checked to be 0 or 1.
RowSlab read_input(Comm& comm, const InputSpec& spec);

}  // namespace hpcad
