#include <fmt/format.h>

#include <algorithm>

#include "hpcad/core/error.hpp"
#include "hpcad/core/memory.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/input.hpp"

namespace hpcad {
namespace {

struct OpenDataset {
  h5::Handle handle;
  std::vector<Index> shape;
};

/// Opens `name` in `file` and checks it is a numeric dataset of `rank` dimensions.
OpenDataset open_numeric(const h5::File& file, const std::string& name, std::size_t rank) {
  if (!h5::exists(file.id(), name))
    throw DataError(fmt::format("{}: no dataset '{}'", file.path(), name));
  const std::string context = fmt::format("{}: dataset '{}'", file.path(), name);
  H5O_info_t info;
  h5::check(H5Oget_info_by_name2(file.id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
            "H5Oget_info_by_name2", context);
  if (info.type != H5O_TYPE_DATASET) throw DataError(context + " is not a dataset");
  OpenDataset ds{
      h5::own(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2", context), {}};
  ds.shape = h5::dataset_shape(ds.handle.id(), context);
  h5::Handle type = h5::own(H5Dget_type(ds.handle.id()), H5Tclose, "H5Dget_type", context);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw DataError(context + " must hold integers or floats");
  const bool column_vector = rank == 1 && ds.shape.size() == 2 && ds.shape[1] == 1;
  if (ds.shape.size() != rank && !column_vector)
    throw DataError(
        fmt::format("{} must be {}-D, has {} dimensions", context, rank, ds.shape.size()));
  return ds;
}

/// Collective. Reads rows `range` of a dataset with `width` values per row into `out`,
/// converted to double, in blocks of `block_rows`. Every rank issues the same number of
/// collective reads; ranks with fewer blocks (or none) take part with empty selections.
void read_rows(Comm& comm, const h5::File& file, const OpenDataset& ds, IndexRange range,
               Index block_rows, double* out, const std::string& context) {
  const Index width = ds.shape.size() == 2 ? ds.shape[1] : 1;
  const std::int64_t local_blocks = (range.size() + block_rows - 1) / block_rows;
  const std::int64_t blocks = comm.allreduce_value(local_blocks, ReduceOp::kMax);
  h5::Handle file_space = h5::own(H5Dget_space(ds.handle.id()), H5Sclose, "H5Dget_space", context);
  h5::Handle transfer = h5::transfer_plist(file);
  double unused = 0;
  for (std::int64_t b = 0; b < blocks; ++b) {
    const Index begin = range.begin + b * block_rows;
    const Index rows = b < local_blocks ? std::min(block_rows, range.end - begin) : 0;
    hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
    hsize_t count[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(width)};
    hsize_t memory_count[1] = {static_cast<hsize_t>(std::max<Index>(rows * width, 1))};
    h5::Handle memory =
        h5::own(H5Screate_simple(1, memory_count, nullptr), H5Sclose, "H5Screate_simple", context);
    if (rows > 0) {
      h5::check(
          H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "H5Sselect_hyperslab", context);
    } else {
      h5::check(H5Sselect_none(file_space.id()), "H5Sselect_none", context);
      h5::check(H5Sselect_none(memory.id()), "H5Sselect_none", context);
    }
    double* target = rows > 0 ? out + (begin - range.begin) * width : &unused;
    h5::check(H5Dread(ds.handle.id(), H5T_NATIVE_DOUBLE, memory.id(), file_space.id(),
                      transfer.id(), target),
              "H5Dread", context);
  }
}

}  // namespace

RowSlab read_hdf5_slab(Comm& comm, const InputSpec& spec) {
  h5::File file = h5::File::open(comm, spec.path);
  RowSlab slab;
  Index n = 0;
  if (spec.columns.empty()) {
    const OpenDataset ds = open_numeric(file, spec.dataset, 2);
    const std::string context = fmt::format("{}: dataset '{}'", spec.path, spec.dataset);
    n = ds.shape[0];
    slab.schema.n_features = ds.shape[1];
    if (auto names = h5::read_strings_attribute(ds.handle.id(), "feature_names");
        names && static_cast<Index>(names->size()) == slab.schema.n_features)
      slab.schema.feature_names = *names;
    const IndexRange range = partition_rows(n, comm.size(), comm.rank());
    slab.global_begin = range.begin;
    const auto count = static_cast<std::size_t>(range.size() * slab.schema.n_features);
    slab.values.reserve(count);
    advise_huge_pages(slab.values.data(), count * sizeof(double));
    slab.values.resize(count);
    read_rows(comm, file, ds, range, spec.block_rows, slab.values.data(), context);
  } else {
    // One 1-D dataset per feature in spec.group, interleaved into rows.
    const Index d = static_cast<Index>(spec.columns.size());
    slab.schema.n_features = d;
    slab.schema.feature_names = spec.columns;
    std::vector<double> column;
    IndexRange range;
    for (Index j = 0; j < d; ++j) {
      const std::string name =
          spec.group == "/" ? spec.columns[j] : spec.group + "/" + spec.columns[j];
      const OpenDataset ds = open_numeric(file, name, 1);
      if (j == 0) {
        n = ds.shape[0];
        range = partition_rows(n, comm.size(), comm.rank());
        slab.global_begin = range.begin;
        slab.values.resize(static_cast<std::size_t>(range.size() * d));
      } else if (ds.shape[0] != n) {
        throw DataError(fmt::format("{}: column '{}' has {} rows but '{}' has {}", spec.path, name,
                                    ds.shape[0], spec.columns[0], n));
      }
      column.resize(static_cast<std::size_t>(range.size()));
      read_rows(comm, file, ds, range, spec.block_rows, column.data(),
                spec.path + ": column " + name);
      for (Index i = 0; i < range.size(); ++i) slab.values[i * d + j] = column[i];
    }
  }
  slab.global_rows = n;
  if (!spec.label.empty()) {
    const OpenDataset ds = open_numeric(file, spec.label, 1);
    if (ds.shape[0] != n)
      throw DataError(fmt::format("{}: label dataset '{}' has {} rows but the features have {}",
                                  spec.path, spec.label, ds.shape[0], n));
    slab.has_labels = true;
    slab.labels.resize(static_cast<std::size_t>(slab.n_rows()));
    const IndexRange range{slab.global_begin, slab.global_begin + slab.n_rows()};
    read_rows(comm, file, ds, range, spec.block_rows, slab.labels.data(),
              spec.path + ": label " + spec.label);
  }
  file.close();
  return slab;
}

}  // namespace hpcad
