// HDF5 block reader. Every rank opens the file read-only with HDF5's default (sec2) driver
// and reads its blocks with independent hyperslab reads into one reused buffer: no collective
// metadata or transfer that one rank's error could leave the others waiting in, no MPI-IO
// two-phase buffering, and no page faults after the first block. Float64 data is read as
// native double, so HDF5 converts nothing and a block is one read (docs/benchmarks.md).
#include <fmt/format.h>

#include <algorithm>

#include "block_readers.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/memory.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {
namespace {

/// One dataset the reader takes values from: its rows land at `offset` within each output
/// row of `stride` values (a 2-D dataset fills whole rows; a 1-D column one slot of each).
struct Part {
  h5::Handle dataset;
  h5::Handle file_space;
  std::string context;
  Index rows = 0;
  Index width = 1;  ///< values per row in the file
};

/// Opens `name` in `file` and checks it is a numeric dataset of `rank` dimensions (a 2-D
/// dataset of one column also counts as 1-D).
Part open_part(const h5::File& file, const std::string& name, std::size_t rank) {
  const std::string context = fmt::format("{}: dataset '{}'", file.path(), name);
  if (!h5::exists(file.id(), name))
    throw DataError(fmt::format("{}: no dataset '{}'", file.path(), name));
  H5O_info_t info;
  h5::check(H5Oget_info_by_name2(file.id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
            "H5Oget_info_by_name2", context);
  if (info.type != H5O_TYPE_DATASET) throw DataError(context + " is not a dataset");
  Part part{h5::own(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2", context),
            {},
            context};
  // A virtual dataset whose source file or dataset is missing reads as its fill value
  // without any error from HDF5, so every score would be computed from zeros. Checking the
  // sources ourselves would mean re-implementing HDF5's search rules (HDF5_VDS_PREFIX, the
  // file's directory, printf-style names) and still miss unmapped regions; refusing is safe.
  h5::Handle create =
      h5::own(H5Dget_create_plist(part.dataset.id()), H5Pclose, "H5Dget_create_plist", context);
  if (H5Pget_layout(create.id()) == H5D_VIRTUAL)
    throw DataError(context +
                    " is an HDF5 virtual dataset, which hpcad does not read (a missing source "
                    "would silently read as fill values): copy the data into a regular "
                    "(contiguous or chunked) dataset");
  const std::vector<Index> shape = h5::dataset_shape(part.dataset.id(), context);
  h5::Handle type = h5::own(H5Dget_type(part.dataset.id()), H5Tclose, "H5Dget_type", context);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw DataError(context + " must hold integers or floats");
  const bool column_vector = rank == 1 && shape.size() == 2 && shape[1] == 1;
  if (shape.size() != rank && !column_vector)
    throw DataError(fmt::format("{} must be {}-D, has {} dimensions", context, rank, shape.size()));
  part.rows = shape[0];
  part.width = shape.size() == 2 ? shape[1] : 1;
  part.file_space = h5::own(H5Dget_space(part.dataset.id()), H5Sclose, "H5Dget_space", context);
  return part;
}

/// Local. Reads rows [begin, begin + rows) of `part` into out[i * stride + offset + k].
/// The memory type is native double: for float64 little-endian files HDF5's conversion path
/// is a no-op and the contiguous case is a single read straight into `out`.
void read_part(const Part& part, Index begin, Index rows, double* out, Index stride, Index offset) {
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t count[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(part.width)};
  h5::check(
      H5Sselect_hyperslab(part.file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
      "H5Sselect_hyperslab", part.context);
  const hsize_t memory_size = static_cast<hsize_t>(rows * stride);
  h5::Handle memory = h5::own(H5Screate_simple(1, &memory_size, nullptr), H5Sclose,
                              "H5Screate_simple", part.context);
  if (part.width != stride) {
    // One column of interleaved rows: HDF5 scatters into every stride-th value.
    const hsize_t m_start = static_cast<hsize_t>(offset), m_stride = static_cast<hsize_t>(stride),
                  m_count = static_cast<hsize_t>(rows);
    h5::check(
        H5Sselect_hyperslab(memory.id(), H5S_SELECT_SET, &m_start, &m_stride, &m_count, nullptr),
        "H5Sselect_hyperslab", part.context);
  }
  h5::check(H5Dread(part.dataset.id(), H5T_NATIVE_DOUBLE, memory.id(), part.file_space.id(),
                    H5P_DEFAULT, out),
            "H5Dread", part.context);
}

class Hdf5Reader final : public BlockReader {
 public:
  Hdf5Reader(const InputSpec& spec, int ranks, int rank)
      : path_(spec.path), block_rows_(spec.block_rows), file_(h5::File::open_local(spec.path)) {
    if (block_rows_ <= 0)
      throw ConfigError(fmt::format("input.block_rows = {}: must be positive", block_rows_));
    if (spec.columns.empty()) {
      features_.push_back(open_part(file_, spec.dataset, 2));
      info_.schema.n_features = features_[0].width;
      if (auto names = h5::read_strings_attribute(features_[0].dataset.id(), "feature_names");
          names && static_cast<Index>(names->size()) == info_.schema.n_features)
        info_.schema.feature_names = *names;
    } else {
      for (const std::string& column : spec.columns) {
        const std::string name = spec.group == "/" ? column : spec.group + "/" + column;
        features_.push_back(open_part(file_, name, 1));
        if (features_.back().rows != features_[0].rows)
          throw DataError(fmt::format("{}: column '{}' has {} rows but '{}' has {}", path_, name,
                                      features_.back().rows, spec.columns[0], features_[0].rows));
      }
      info_.schema.n_features = static_cast<Index>(spec.columns.size());
      info_.schema.feature_names = spec.columns;
    }
    info_.global_rows = features_[0].rows;
    if (!spec.label.empty()) {
      label_ = open_part(file_, spec.label, 1);
      if (label_->rows != info_.global_rows)
        throw DataError(fmt::format("{}: label dataset '{}' has {} rows but the features have {}",
                                    path_, spec.label, label_->rows, info_.global_rows));
      info_.has_labels = true;
    }
    const IndexRange range = partition_rows(info_.global_rows, ranks, rank);
    info_.local_begin = range.begin;
    info_.local_rows = range.size();
  }

  const TableInfo& info() const override { return info_; }
  Index block_count() const override { return (info_.local_rows + block_rows_ - 1) / block_rows_; }
  std::string kind() const override { return kFormatHdf5; }

  void read(Index b, RowBlock& block) override {
    const Index d = info_.schema.n_features;
    const Index first = b * block_rows_;
    const Index rows = std::min(block_rows_, info_.local_rows - first);
    const Index begin = info_.local_begin + first;
    // One buffer for every block: fresh pages would cost a fault per 4 KiB on each block.
    if (values_.empty()) {
      const auto size = static_cast<std::size_t>(std::min(block_rows_, info_.local_rows) * d);
      values_.reserve(size);
      advise_huge_pages(values_.data(), size * sizeof(double));
      values_.resize(size);
    }
    for (std::size_t j = 0; j < features_.size(); ++j)
      read_part(features_[j], begin, rows, values_.data(), d, static_cast<Index>(j));
    block.global_begin = begin;
    block.n_rows = rows;
    block.n_features = d;
    block.values = std::span<const double>(values_).first(static_cast<std::size_t>(rows * d));
    block.labels = {};
    if (label_) {
      labels_.resize(static_cast<std::size_t>(std::min(block_rows_, info_.local_rows)));
      read_part(*label_, begin, rows, labels_.data(), 1, 0);
      block.labels = std::span<const double>(labels_).first(static_cast<std::size_t>(rows));
      check_labels(block.labels, begin, path_);
    }
  }

 private:
  std::string path_;
  Index block_rows_;
  h5::File file_;
  std::vector<Part> features_;
  std::optional<Part> label_;
  TableInfo info_;
  std::vector<double> values_, labels_;
};

}  // namespace

std::unique_ptr<BlockReader> open_hdf5_reader(const InputSpec& spec, int ranks, int rank) {
  return std::make_unique<Hdf5Reader>(spec, ranks, rank);
}

}  // namespace hpcad
