#pragma once
/// The file-format block readers behind open_input_reader (internal to io/).
#include <memory>
#include <span>
#include <string>

#include "hpcad/comm/comm.hpp"
#include "hpcad/data/row_source.hpp"
#include "hpcad/io/input.hpp"

namespace hpcad {

/// Local. Rank `rank` of `ranks`' balanced share of the rows of an HDF5 input (a 2-D
/// dataset, or 1-D column datasets in a group), in blocks of spec.block_rows rows.
std::unique_ptr<BlockReader> open_hdf5_reader(const InputSpec& spec, int ranks, int rank);

/// Local. Rank `rank` of `ranks`' share of whole row groups of a Parquet input (a file,
/// directory or glob); one block per row group.
std::unique_ptr<BlockReader> open_parquet_reader(const InputSpec& spec, int ranks, int rank);

/// Collective. This rank's share of the bytes of a CSV input (a file, directory or glob),
/// in byte sub-ranges of about spec.block_rows rows; an opening pass counts each block's
/// rows to place it in the table. Failures are agreed on inside (PeerError on every rank).
std::unique_ptr<BlockReader> open_csv_reader(Comm& comm, const InputSpec& spec);

/// Local. Throws DataError "<path>: row <global row>: label is X, ..." unless every label is
/// exactly 0 or 1; `global_begin` is the global index of labels[0].
void check_labels(std::span<const double> labels, Index global_begin, const std::string& path);

}  // namespace hpcad
