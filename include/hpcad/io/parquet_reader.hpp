#pragma once
/// hpcad's own Parquet reader: flat tables of numeric columns, read as doubles.
#include <memory>
#include <string>
#include <vector>

#include "hpcad/core/types.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/data/row_slab.hpp"
#include "hpcad/io/parquet/parquet_file.hpp"

namespace hpcad {

/// Sorted list of files for an input path: the path itself if it is a file, the files with
/// `extension` (e.g. ".parquet") in it if it is a directory, the matches if it contains a glob
/// (*, ?, [). Throws IoError naming the path when nothing matches. Local.
std::vector<std::string> expand_input_paths(const std::string& path, const std::string& extension);

/// One or more Parquet files with the same schema, read as one table. Opening reads and
/// validates every footer (cheap; every rank does it). Local (no communication).
///
/// Readable columns are flat (not nested, not repeated) BOOLEAN, INT32, INT64, FLOAT and
/// DOUBLE columns; unsigned and decimal integers are converted by their annotations, nulls
/// become NaN. Throws IoError for unreadable files and DataError (naming the file) for
/// corrupt or unsupported contents.
class ParquetDataset {
 public:
  /// Columns resolved for reading: top-level column indices of the features and the label.
  struct Selection {
    std::vector<int> features;
    std::vector<std::string> names;
    int label = -1;  ///< -1: no label
  };
  /// The open file and decode buffers one reader reuses from row group to row group.
  struct ReadState {
    parquet::ReadScratch scratch;
    std::unique_ptr<parquet::FileHandle> handle;
    int file = -1;
  };

  explicit ParquetDataset(std::vector<std::string> paths);
  Index num_rows() const { return num_rows_; }
  /// Row counts of all row groups of all files, in file order (the unit of parallelism).
  std::vector<Index> row_group_rows() const { return group_rows_; }
  /// Names of all top-level columns.
  std::vector<std::string> column_names() const;
  /// Names of the top-level columns read_slab can read (flat numeric ones).
  std::vector<std::string> readable_column_names() const;
  /// Reads row groups [groups.begin, groups.end) (global row-group indices over all files).
  /// `features`: column names in order; empty = every numeric (readable) column except `label`.
  /// `label`: label column name or "" for none. Returns a RowSlab with row-major values,
  /// schema.feature_names set, has_labels/labels set (label values as double), global_begin =
  /// rows before the first group, global_rows = num_rows(). Unknown column → DataError naming
  /// the file and listing the available columns.
  RowSlab read_slab(IndexRange groups, const std::vector<std::string>& features,
                    const std::string& label) const;

  /// Resolves feature and label names as read_slab does (same errors). The series `keys`
  /// (group_by / order_by) may be BYTE_ARRAY text columns and are selected also when
  /// `features` is empty (after the numeric columns).
  Selection select(const std::vector<std::string>& features, const std::string& label,
                   const std::vector<std::string>& keys = {}) const;
  /// Global index of the first row of row group `g` (num_rows() for g = number of groups).
  Index group_first_row(Index g) const;
  /// Reads row group `g` into `values` (row-major, selection.features.size() per row) and,
  /// with a label, `labels` (one per row).
  void read_group(Index g, const Selection& selection, double* values, double* labels,
                  ReadState& state) const;

 private:
  struct Group {
    int file;
    int row_group;
    Index first_row;
  };
  int resolve_column(const std::string& name, const char* role, bool as_key = false) const;

  std::vector<parquet::ParquetFile> files_;
  std::vector<Group> groups_;
  std::vector<Index> group_rows_;
  Index num_rows_ = 0;
};

}  // namespace hpcad
