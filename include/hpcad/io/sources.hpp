#pragma once
/// Block readers over input files: every rank opens its own share of the rows of an HDF5,
/// Parquet or CSV input, and reads it block by block (see data/row_source.hpp).
#include <memory>

#include "hpcad/comm/comm.hpp"
#include "hpcad/data/row_source.hpp"
#include "hpcad/io/input.hpp"

namespace hpcad {

/// One constant per file-format name.
inline constexpr const char* kFormatHdf5 = "hdf5";
inline constexpr const char* kFormatParquet = "parquet";
inline constexpr const char* kFormatCsv = "csv";

/// Collective. Opens this rank's balanced share of the input described by `spec` as a block
/// reader (blocks of about spec.block_rows rows; Parquet: row groups). Failures on any rank
/// are agreed on (PeerError on every rank). Labels are checked to be 0/1 as blocks are read
/// (DataError naming the file and global row).
std::unique_ptr<BlockReader> open_input_reader(Comm& comm, const InputSpec& spec);

}  // namespace hpcad
