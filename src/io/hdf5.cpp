#include "hpcad/io/hdf5.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/io/output_path.hpp"

namespace hpcad::h5 {
namespace {

/// One entry of the error stack, on one line. The file drivers describe a failed system call
/// over several lines ("file write failed: time = ..., errno = 28, error message = 'No space
/// left on device', ..."); only the operation and the system's message are kept, so the
/// cause is readable.
std::string describe_entry(const char* desc) {
  std::string text = desc ? desc : "(no description)";
  constexpr std::string_view kSystemMessage = "error message = '";
  if (const auto at = text.find(kSystemMessage); at != std::string::npos) {
    const auto begin = at + kSystemMessage.size();
    const auto end = text.find('\'', begin);
    text = text.substr(0, text.find(':')) + ": " + text.substr(begin, end - begin);
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

herr_t collect_error(unsigned, const H5E_error2_t* entry, void* out) {
  auto& entries = *static_cast<std::vector<std::string>*>(out);
  std::string text = describe_entry(entry->desc);
  if (entries.empty() || entries.back() != text) entries.push_back(std::move(text));
  return 0;
}

/// HDF5's current error stack as one line, innermost cause first (repeats dropped).
std::string error_stack() {
  std::vector<std::string> entries;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &entries);
  H5Eclear2(H5E_DEFAULT);
  return entries.empty() ? "unknown HDF5 error" : fmt::format("{}", fmt::join(entries, "; "));
}

template <typename T>
hid_t native_type();
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::int8_t>() {
  return H5T_NATIVE_INT8;
}

Handle string_type() {
  Handle type = own(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", "string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size", "string type");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset", "string type");
  return type;
}

Handle new_attribute(hid_t object, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(object, name.c_str()) > 0)
    check(H5Adelete(object, name.c_str()), "H5Adelete", "attribute " + name);
  return own(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
             "H5Acreate2", "attribute " + name);
}

template <typename T>
void write_scalar_attribute(hid_t object, const std::string& name, T value) {
  Handle space = own(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", name);
  Handle attr = new_attribute(object, name, native_type<T>(), space.id());
  check(H5Awrite(attr.id(), native_type<T>(), &value), "H5Awrite", "attribute " + name);
}

/// Whether the attribute exists; a corrupt attribute table is an error, not "absent" (which
/// would silently drop e.g. feature names).
bool attribute_exists(hid_t object, const std::string& name) {
  return check(H5Aexists(object, name.c_str()), "H5Aexists", "attribute " + name) > 0;
}

template <typename T>
std::optional<T> read_scalar_attribute(hid_t object, const std::string& name) {
  if (!attribute_exists(object, name)) return std::nullopt;
  Handle attr = own(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", name);
  Handle space = own(H5Aget_space(attr.id()), H5Sclose, "H5Aget_space", name);
  if (H5Sget_simple_extent_npoints(space.id()) != 1) return std::nullopt;
  Handle type = own(H5Aget_type(attr.id()), H5Tclose, "H5Aget_type", name);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return std::nullopt;
  T value{};
  check(H5Aread(attr.id(), native_type<T>(), &value), "H5Aread", "attribute " + name);
  return value;
}

}  // namespace

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (id_ >= 0 && closer_) closer_(id_);
  id_ = -1;
}

void Handle::close(const std::string& what) {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = -1;
  check(closer_(id), "close", what);
}

herr_t check(herr_t status, const char* call, const std::string& context) {
  if (status < 0) throw IoError(fmt::format("{}: {} failed: {}", context, call, error_stack()));
  return status;
}

Handle own(hid_t id, Handle::Closer closer, const char* call, const std::string& context) {
  if (id < 0) throw IoError(fmt::format("{}: {} failed: {}", context, call, error_stack()));
  return Handle(id, closer);
}

namespace {

/// The name of the file holding an HDF5 object, for messages.
std::string file_name(hid_t object) {
  const ssize_t size = H5Fget_name(object, nullptr, 0);
  if (size <= 0) return "(unnamed file)";
  std::string name(static_cast<std::size_t>(size) + 1, '\0');
  H5Fget_name(object, name.data(), name.size());
  name.resize(static_cast<std::size_t>(size));
  return name;
}

/// Growth step of files built in memory.
constexpr std::size_t kImageIncrement = std::size_t{1} << 20;

Handle access_plist(Comm& comm, const std::string& path, bool* collective) {
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate", path);
  *collective = false;
  if (auto* mpi = dynamic_cast<MpiComm*>(&comm); mpi && mpi->size() > 1) {
    check(H5Pset_fapl_mpio(fapl.id(), mpi->native(), MPI_INFO_NULL), "H5Pset_fapl_mpio", path);
    // Metadata reads by rank 0 and a broadcast, instead of every rank hitting the file.
    check(H5Pset_all_coll_metadata_ops(fapl.id(), true), "H5Pset_all_coll_metadata_ops", path);
    check(H5Pset_coll_metadata_write(fapl.id(), true), "H5Pset_coll_metadata_write", path);
    *collective = true;
  }
  return fapl;
}

}  // namespace

File File::open(Comm& comm, const std::string& path) {
  bool collective = false;
  Handle fapl = access_plist(comm, path, &collective);
  // Checked on one process (cheap) so a missing or non-HDF5 file gets a plain message.
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(
        fmt::format("{}: cannot open as an HDF5 file (missing, unreadable or not HDF5)", path));
  }
  Handle file = own(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id()), H5Fclose, "H5Fopen", path);
  return File(std::move(file), path, collective, false);
}

File File::open_local(const std::string& path) {
  SerialComm serial;
  return open(serial, path);
}

File File::open_image(std::vector<std::byte>& image, const std::string& name) {
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate", name);
  check(H5Pset_fapl_core(fapl.id(), 1 << 20, false), "H5Pset_fapl_core", name);
  check(H5Pset_file_image(fapl.id(), image.data(), image.size()), "H5Pset_file_image", name);
  // A distinct HDF5 name: the same file may also be open from disk in this process.
  hid_t id = H5Fopen(("memory-image:" + name).c_str(), H5F_ACC_RDONLY, fapl.id());
  if (id < 0)
    throw DataError(fmt::format("{}: not a readable HDF5 file ({})", name, error_stack()));
  return File(Handle(id, H5Fclose), name, false, false);
}

File File::create(Comm& comm, const std::string& path) {
  bool collective = false;
  Handle fapl = access_plist(comm, path, &collective);
  Handle file = own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), H5Fclose,
                    "H5Fcreate", path);
  return File(std::move(file), path, collective, false);
}

File File::create_local(const std::string& path) {
  // Built in memory and written by close() in one checked write: a full disk is then an
  // error with its cause, never a failed H5Fclose (HDF5 1.10 keeps a file whose close failed
  // half-freed and crashes at exit), and an abandoned file never reaches the disk.
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate", path);
  check(H5Pset_fapl_core(fapl.id(), kImageIncrement, false), "H5Pset_fapl_core", path);
  Handle file = own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), H5Fclose,
                    "H5Fcreate", path);
  return File(std::move(file), path, false, true);
}

void File::close() {
  if (handle_.id() < 0) return;
  if (!in_memory_) return handle_.close(path_);
  check(H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL), "H5Fflush", path_);
  const ssize_t size = H5Fget_file_image(handle_.id(), nullptr, 0);
  std::vector<std::byte> image(static_cast<std::size_t>(std::max<ssize_t>(size, 0)));
  if (size < 0 || H5Fget_file_image(handle_.id(), image.data(), image.size()) != size)
    throw IoError(fmt::format("{}: H5Fget_file_image failed: {}", path_, error_stack()));
  handle_.close(path_);
  write_whole_file(path_, image);
}

Handle transfer_plist(const File& file) {
  Handle dxpl = own(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "H5Pcreate", file.path());
  if (file.collective())
    check(H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio", file.path());
  return dxpl;
}

bool exists(hid_t location, const std::string& name) {
  // Check each path component so a missing parent group is not an error.
  std::size_t pos = 0;
  while (true) {
    pos = name.find('/', pos + 1);
    const std::string part = name.substr(0, pos);
    if (!part.empty() && part != "/" && H5Lexists(location, part.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type = string_type();
  Handle space = own(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", name);
  Handle attr = new_attribute(object, name, type.id(), space.id());
  const char* text = value.c_str();
  check(H5Awrite(attr.id(), type.id(), &text), "H5Awrite", "attribute " + name);
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_scalar_attribute(object, name, value);
}

void write_attribute(hid_t object, const std::string& name, double value) {
  write_scalar_attribute(object, name, value);
}

void write_attribute(hid_t object, const std::string& name,
                     const std::vector<std::string>& values) {
  Handle type = string_type();
  const hsize_t count = values.size();
  Handle space = own(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple", name);
  Handle attr = new_attribute(object, name, type.id(), space.id());
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  check(H5Awrite(attr.id(), type.id(), texts.data()), "H5Awrite", "attribute " + name);
}

std::optional<std::vector<std::string>> read_strings_attribute(hid_t object,
                                                               const std::string& name) {
  if (!attribute_exists(object, name)) return std::nullopt;
  Handle attr = own(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", name);
  Handle type = own(H5Aget_type(attr.id()), H5Tclose, "H5Aget_type", name);
  if (H5Tget_class(type.id()) != H5T_STRING) return std::nullopt;
  Handle space = own(H5Aget_space(attr.id()), H5Sclose, "H5Aget_space", name);
  const hssize_t count = H5Sget_simple_extent_npoints(space.id());
  if (count < 0) return std::nullopt;
  const bool variable = H5Tis_variable_str(type.id()) > 0;
  const std::size_t item =
      variable ? sizeof(char*) : std::max<std::size_t>(H5Tget_size(type.id()), 1);
  if (static_cast<std::size_t>(count) > kMaxAttributeBytes / item)
    throw DataError(
        fmt::format("attribute '{}' declares {} strings of {} bytes: more than the {} "
                    "bytes hpcad reads",
                    name, count, item, kMaxAttributeBytes));
  std::vector<std::string> values;
  if (variable) {
    Handle mem = string_type();
    std::vector<char*> texts(static_cast<std::size_t>(count));
    check(H5Aread(attr.id(), mem.id(), texts.data()), "H5Aread", "attribute " + name);
    for (char* t : texts) values.emplace_back(t ? t : "");
    H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, texts.data());
  } else {
    const std::size_t size = H5Tget_size(type.id());
    std::vector<char> buffer(size * static_cast<std::size_t>(count) + 1, '\0');
    check(H5Aread(attr.id(), type.id(), buffer.data()), "H5Aread", "attribute " + name);
    for (hssize_t i = 0; i < count; ++i) {
      const char* start = buffer.data() + i * size;
      values.emplace_back(start, strnlen(start, size));
    }
  }
  return values;
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name) {
  auto values = read_strings_attribute(object, name);
  if (!values || values->size() != 1) return std::nullopt;
  return values->front();
}

std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name) {
  return read_scalar_attribute<std::int64_t>(object, name);
}

std::optional<double> read_real_attribute(hid_t object, const std::string& name) {
  return read_scalar_attribute<double>(object, name);
}

std::vector<Index> dataset_shape(hid_t dataset, const std::string& context) {
  Handle space = own(H5Dget_space(dataset), H5Sclose, "H5Dget_space", context);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) throw IoError(context + ": cannot read the dataset's shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

Handle create_group(hid_t parent, const std::string& name, const std::string& context) {
  return own(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
             "H5Gcreate2", context + "/" + name);
}

Handle create_dataset(const File& file, const std::string& name, hid_t file_type, Index rows,
                      Index width) {
  const std::string context = file.path() + ": dataset " + name;
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(width)};
  Handle space = own(H5Screate_simple(width > 0 ? 2 : 1, dims, nullptr), H5Sclose,
                     "H5Screate_simple", context);
  return own(H5Dcreate2(file.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose, "H5Dcreate2", context);
}

namespace {

/// The file and memory selections of rows [begin, begin + rows) of a dataset with `width`
/// values per row; a rank with no rows selects nothing but still takes part in a transfer.
struct RowSelection {
  Handle file_space, memory_space;
};

RowSelection select_rows(hid_t dataset, Index begin, Index rows, Index width,
                         const std::string& context) {
  RowSelection s;
  s.file_space = own(H5Dget_space(dataset), H5Sclose, "H5Dget_space", context);
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t count[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(width)};
  const hsize_t memory_count =
      static_cast<hsize_t>(std::max<Index>(rows * std::max<Index>(width, 1), 1));
  s.memory_space =
      own(H5Screate_simple(1, &memory_count, nullptr), H5Sclose, "H5Screate_simple", context);
  if (rows > 0) {
    check(H5Sselect_hyperslab(s.file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "H5Sselect_hyperslab", context);
  } else {
    check(H5Sselect_none(s.file_space.id()), "H5Sselect_none", context);
    check(H5Sselect_none(s.memory_space.id()), "H5Sselect_none", context);
  }
  return s;
}

}  // namespace

void write_rows(const File& file, hid_t dataset, hid_t memory_type, Index begin, Index rows,
                Index width, const void* data) {
  const std::string context = file.path() + ": write";
  const RowSelection s = select_rows(dataset, begin, rows, width, context);
  Handle transfer = transfer_plist(file);
  const double unused = 0;
  check(H5Dwrite(dataset, memory_type, s.memory_space.id(), s.file_space.id(), transfer.id(),
                 rows > 0 ? data : &unused),
        "H5Dwrite", context);
}

void read_rows(const File& file, hid_t dataset, hid_t memory_type, Index begin, Index rows,
               Index width, void* data) {
  const std::string context = file.path() + ": read";
  const RowSelection s = select_rows(dataset, begin, rows, width, context);
  Handle transfer = transfer_plist(file);
  double unused = 0;
  check(H5Dread(dataset, memory_type, s.memory_space.id(), s.file_space.id(), transfer.id(),
                rows > 0 ? data : &unused),
        "H5Dread", context);
}

template <typename T>
void write_vector(hid_t location, const std::string& name, const std::vector<T>& values) {
  const std::string context = fmt::format("{}: dataset {}", file_name(location), name);
  const hsize_t count = values.size();
  Handle space = own(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple", context);
  Handle dataset = own(H5Dcreate2(location, name.c_str(), native_type<T>(), space.id(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose, "H5Dcreate2", context);
  if (!values.empty())
    check(H5Dwrite(dataset.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "H5Dwrite", context);
}

template <typename T>
std::vector<T> read_vector(hid_t location, const std::string& name, const std::string& context,
                           Index max_values) {
  if (!exists(location, name))
    throw DataError(fmt::format("{}: missing dataset '{}'", context, name));
  Handle dataset = own(H5Dopen2(location, name.c_str(), H5P_DEFAULT), H5Dclose, "H5Dopen2",
                       context + " dataset " + name);
  const auto shape = dataset_shape(dataset.id(), context + " dataset " + name);
  if (shape.size() != 1)
    throw DataError(fmt::format("{}: dataset '{}' must be 1-D, has {} dimensions", context, name,
                                shape.size()));
  if (shape[0] < 0 || shape[0] > max_values)
    throw DataError(
        fmt::format("{}: dataset '{}' declares {} values, more than the {} the file "
                    "can hold",
                    context, name, static_cast<std::uint64_t>(shape[0]), max_values));
  std::vector<T> values(static_cast<std::size_t>(shape[0]));
  if (!values.empty())
    check(H5Dread(dataset.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "H5Dread", context + " dataset " + name);
  return values;
}

template void write_vector(hid_t, const std::string&, const std::vector<double>&);
template void write_vector(hid_t, const std::string&, const std::vector<std::int64_t>&);
template std::vector<double> read_vector(hid_t, const std::string&, const std::string&, Index);
template std::vector<std::int64_t> read_vector(hid_t, const std::string&, const std::string&,
                                               Index);
template std::vector<std::int8_t> read_vector(hid_t, const std::string&, const std::string&, Index);

}  // namespace hpcad::h5
