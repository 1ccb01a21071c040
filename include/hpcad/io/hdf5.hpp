#pragma once
/// Thin RAII wrappers over the HDF5 C API. Every call goes through a checked wrapper that
/// turns a failure into an IoError carrying HDF5's own error stack and the file name.
/// HDF5 headers appear only in io/.
#include <hdf5.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"

namespace hpcad::h5 {

/// Turns off HDF5's printing of error stacks (hpcad reports them in its exceptions).
void silence_errors();

/// An owned HDF5 identifier, closed with the matching H5*close on destruction.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t id() const { return id_; }
  /// Closes now and reports a failure (destructors never throw).
  void close(const std::string& what);

 private:
  void reset() noexcept;
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

/// Throws IoError("<context>: <call> failed: <hdf5 stack>") when `status` < 0.
herr_t check(herr_t status, const char* call, const std::string& context);
/// Wraps a new identifier, throwing IoError when it is invalid.
Handle own(hid_t id, Handle::Closer closer, const char* call, const std::string& context);

/// A file opened or created by every rank of `comm` with the MPI-IO driver when `comm` is
/// an MpiComm (collective), or by this process alone with the default driver otherwise.
class File {
 public:
  /// Collective (for MPI comms). Opens an existing file read-only.
  static File open(Comm& comm, const std::string& path);
  /// Opens an existing file read-only on this process only.
  static File open_local(const std::string& path);
  /// Opens an in-memory image of a file (e.g. a model file broadcast by rank 0).
  static File open_image(std::vector<std::byte>& image, const std::string& name);
  /// Collective (for MPI comms). Creates or truncates `path`.
  static File create(Comm& comm, const std::string& path);
  /// Creates `path` on this process only. The file is built in memory and written to `path`
  /// by close() (for small files: model files, test inputs); dropped without close(), it
  /// leaves nothing on disk.
  static File create_local(const std::string& path);

  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }
  /// Whether transfers should be collective (file opened through MPI-IO).
  bool collective() const { return collective_; }
  /// Collective for collective files. Closes, reporting failures; a file from create_local()
  /// is written to its path here, in one checked write.
  void close();

 private:
  File(Handle handle, std::string path, bool collective, bool in_memory)
      : handle_(std::move(handle)),
        path_(std::move(path)),
        collective_(collective),
        in_memory_(in_memory) {}

  Handle handle_;
  std::string path_;
  bool collective_ = false;
  bool in_memory_ = false;  ///< built in memory, written to path_ by close()
};

/// A dataset transfer property list: collective MPI-IO for collective files.
Handle transfer_plist(const File& file);

bool exists(hid_t location, const std::string& name);

/// The most string data one attribute may declare (feature names of a very wide table fit).
inline constexpr std::size_t kMaxAttributeBytes = std::size_t{64} << 20;

/// Attribute helpers on any object. Writers must be called identically on every rank of a
/// collectively opened file.
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values);
/// String attributes (variable or fixed length, scalar or 1-D). An attribute declaring more
/// than kMaxAttributeBytes is a DataError, raised before anything is allocated.
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name);
std::optional<std::vector<std::string>> read_strings_attribute(hid_t object,
                                                               const std::string& name);
std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name);
std::optional<double> read_real_attribute(hid_t object, const std::string& name);

/// Shape of a dataset.
std::vector<Index> dataset_shape(hid_t dataset, const std::string& context);

/// Collective for collective files. Creates the group `name` in `parent`; `context` names
/// the parent in errors.
Handle create_group(hid_t parent, const std::string& name, const std::string& context);

/// Collective for collective files. Creates a dataset of `rows` x `width` (1-D when width is 0).
Handle create_dataset(const File& file, const std::string& name, hid_t file_type, Index rows,
                      Index width);

/// Collective for collective files. Writes rows [begin, begin + rows) of `dataset` (with
/// `width` values per row, 0 for 1-D) from `data`; a rank with no rows still takes part.
void write_rows(const File& file, hid_t dataset, hid_t memory_type, Index begin, Index rows,
                Index width, const void* data);

/// Collective for collective files. Reads rows [begin, begin + rows) of `dataset` into
/// `data` (the mirror of write_rows).
void read_rows(const File& file, hid_t dataset, hid_t memory_type, Index begin, Index rows,
               Index width, void* data);

/// Writes a whole 1-D dataset from this process (serial files).
template <typename T>
void write_vector(hid_t location, const std::string& name, const std::vector<T>& values);
/// Reads a whole 1-D dataset on this process. A dataset declaring more than `max_values`
/// values is a DataError, raised before anything is allocated: a crafted or corrupt file can
/// declare 2^60 elements in a few bytes (unallocated storage reads as the fill value).
template <typename T>
std::vector<T> read_vector(hid_t location, const std::string& name, const std::string& context,
                           Index max_values = std::numeric_limits<Index>::max());

}  // namespace hpcad::h5
