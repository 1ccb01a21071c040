#include "hpcad/io/hdf5.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
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

/// Little-endian unsigned integer of `width` bytes at `at`.
std::uint64_t little_endian(const std::byte* at, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = width; i-- > 0;) value = (value << 8) | std::to_integer<std::uint64_t>(at[i]);
  return value;
}

/// Where the superblock is (HDF5 searches 0, 512, 1024, ...; addresses in the file are
/// relative to it) and the sizes of "offsets" and "lengths" it declares. `found` is false
/// when there is no superblock HDF5 could open.
struct Superblock {
  bool found = false;
  std::size_t base = 0;
  std::size_t offset_size = 0;
  std::size_t length_size = 0;
};

Superblock find_superblock(std::span<const std::byte> image) {
  static constexpr std::string_view kSignature = "\x89HDF\r\n\x1a\n";
  for (std::size_t at = 0; at + 16 <= image.size(); at = at == 0 ? 512 : 2 * at) {
    if (std::memcmp(image.data() + at, kSignature.data(), kSignature.size()) != 0) continue;
    const bool old_version = std::to_integer<unsigned>(image[at + 8]) < 2;
    return {true, at, std::to_integer<std::size_t>(image[at + (old_version ? 13 : 9)]),
            std::to_integer<std::size_t>(image[at + (old_version ? 14 : 10)])};
  }
  return {};
}

/// The in-memory image (core driver) holding `object`, or nothing for a file on disk. The
/// core driver's handle is the address of its buffer pointer.
std::span<const std::byte> image_of(hid_t object) {
  const hid_t file_id = H5Iget_file_id(object);
  if (file_id < 0) return {};
  const Handle file(file_id, H5Fclose);
  const Handle fapl(H5Fget_access_plist(file.id()), H5Pclose);
  void* handle = nullptr;
  hsize_t size = 0;
  if (fapl.id() < 0 || H5Pget_driver(fapl.id()) != H5FD_CORE ||
      H5Fget_vfd_handle(file.id(), fapl.id(), &handle) < 0 || !handle ||
      H5Fget_filesize(file.id(), &size) < 0)
    return {};
  return {*static_cast<const std::byte* const*>(handle), static_cast<std::size_t>(size)};
}

/// Bytes an attribute message needs for its name, datatype and dataspace (0: a version
/// HDF5 refuses itself). Version 1 pads each part to 8 bytes; version 3 adds an encoding byte.
std::uint64_t attribute_header_bytes(const std::byte* message) {
  const auto version = std::to_integer<unsigned>(message[0]);
  const std::uint64_t name = little_endian(message + 2, 2), type = little_endian(message + 4, 2),
                      space = little_endian(message + 6, 2);
  auto pad = [](std::uint64_t n) { return (n + 7) / 8 * 8; };
  if (version == 1) return 8 + pad(name) + pad(type) + pad(space);
  if (version == 2 || version == 3) return 8 + (version == 3 ? 1 : 0) + name + type + space;
  return 0;
}

/// The declared size of object `index` (> 0) of the global heap collection at `address`
/// (file addresses are relative to the superblock), or nothing when there is no such object.
std::optional<std::uint64_t> heap_object_size(const std::byte* file, std::uint64_t size,
                                              std::size_t length_size, std::uint64_t address,
                                              std::uint64_t index) {
  const std::size_t header = 8 + length_size;
  if (address > size || size - address < header || std::memcmp(file + address, "GCOL", 4) != 0 ||
      std::to_integer<unsigned>(file[address + 4]) != 1)
    return std::nullopt;
  const std::uint64_t total = little_endian(file + address + 8, length_size);
  if (total < header || total > size - address) return std::nullopt;
  const std::uint64_t end = address + total;
  for (std::uint64_t object = address + header; object < end && end - object >= header;) {
    const std::uint64_t at_index = little_endian(file + object, 2);
    const std::uint64_t declared = little_endian(file + object + 8, length_size);
    const std::uint64_t step = at_index == 0          ? declared
                               : declared > end - object ? 0
                                                         : header + (declared + 7) / 8 * 8;
    if (step == 0 || step > end - object) return std::nullopt;
    if (at_index == index && index != 0) return declared;
    object += step;
  }
  return std::nullopt;
}

/// A variable-length string attribute's values are references (length, global heap
/// collection, object index) that HDF5 1.10 follows unchecked: H5HG_read indexes the
/// collection's object table with the index (SIGSEGV on a crafted file, found by
/// fuzz_model_file) and copies the object into a buffer of the declared length. Each
/// reference must name an existing object no longer than its declared length.
/// `message`: the attribute message's body, whose parts are known to fit in its `bytes`.
void check_string_references(const std::byte* file, std::uint64_t size, std::size_t offset_size,
                             std::size_t length_size, const std::byte* message,
                             std::uint64_t bytes, const std::function<void(std::string)>& fail) {
  const auto version = std::to_integer<unsigned>(message[0]);
  auto pad = [&](std::uint64_t n) { return version == 1 ? (n + 7) / 8 * 8 : n; };
  const std::uint64_t name = little_endian(message + 2, 2), type_bytes = little_endian(message + 4, 2),
                      space_bytes = little_endian(message + 6, 2);
  const std::byte* type = message + (version == 3 ? 9 : 8) + pad(name);
  const std::byte* space = type + pad(type_bytes);
  const std::byte* data = space + pad(space_bytes);
  const bool variable_string = type_bytes >= 8 && (std::to_integer<unsigned>(type[0]) & 0x0F) == 9 &&
                               (std::to_integer<unsigned>(type[1]) & 0x0F) == 1;
  if (!variable_string || space_bytes < 4) return;
  const auto space_version = std::to_integer<unsigned>(space[0]);
  const auto rank = std::to_integer<std::size_t>(space[1]);
  if (space_version == 2 && std::to_integer<unsigned>(space[3]) == 2) return;  // null space
  const std::uint64_t dims_at = space_version == 1 ? 8 : 4;
  if (dims_at + rank * length_size > space_bytes) fail("its dataspace overruns the message");
  const std::uint64_t element = 4 + offset_size + 4;
  const std::uint64_t room = static_cast<std::uint64_t>(message + bytes - data) / element;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint64_t extent = little_endian(space + dims_at + d * length_size, length_size);
    if (extent != 0 && count > room / extent)
      fail(fmt::format("an attribute declares more strings than its message holds ({})", room));
    count *= extent;
  }
  if (count > room)
    fail(fmt::format("an attribute declares {} strings, its message holds {}", count, room));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::byte* reference = data + i * element;
    const std::uint64_t length = little_endian(reference, 4);
    const std::uint64_t address = little_endian(reference + 4, offset_size);
    const std::uint64_t index = little_endian(reference + 4 + offset_size, 4);
    if (address == 0) continue;  // a null string
    const auto object = heap_object_size(file, size, length_size, address, index);
    if (!object)
      fail(fmt::format("string {} of an attribute refers to global heap object {} at byte {}, "
                       "which does not exist",
                       i, index, address));
    if (*object > length)
      fail(fmt::format("string {} of an attribute declares {} bytes, its heap object has {}", i,
                       length, *object));
  }
}

/// HDF5 1.10 decodes an attribute message (H5O_attr_decode) trusting the sizes of its name,
/// datatype and dataspace, and then copies the value from beyond the message: a crafted
/// model file crashed `hpcad score` with SIGSEGV (found by tests/fuzz/fuzz_model_file). So
/// before an attribute of an object held in memory is looked up, the attribute messages of
/// the object's header (version 1 or 2, with continuation blocks) are checked against their
/// message sizes. Files on disk (inputs) are left to HDF5.
void check_attribute_messages(hid_t object, const std::string& context) {
  const std::span<const std::byte> image = image_of(object);
  const Superblock superblock = find_superblock(image);
  const std::size_t offset_size = superblock.offset_size, length_size = superblock.length_size;
  if (!superblock.found || offset_size == 0 || offset_size > 8 || length_size == 0 ||
      length_size > 8)
    return;
  H5O_info_t info;
  check(H5Oget_info2(object, &info, H5O_INFO_BASIC), "H5Oget_info2", context);
  const std::byte* file = image.data() + superblock.base;
  const std::uint64_t size = image.size() - superblock.base;
  auto fail = [&](std::uint64_t at, const std::string& what) {
    throw DataError(fmt::format("{}: corrupt object header at byte {}: {}", context,
                                superblock.base + at, what));
  };
  struct Block {
    std::uint64_t begin, end;
  };
  std::vector<Block> blocks;
  bool version_2 = false;
  std::size_t prefix = 8;  // message type, size, flags and padding (version 1)
  const std::uint64_t header = info.addr;
  if (header + 16 > size) return;  // HDF5 could not have opened the object
  if (std::memcmp(file + header, "OHDR", 4) == 0) {
    version_2 = true;
    const auto flags = std::to_integer<unsigned>(file[header + 5]);
    prefix = 4 + ((flags & 0x04) ? 2 : 0);
    const std::uint64_t at = header + 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const std::size_t width = std::size_t{1} << (flags & 3);
    if (at + width > size) return;
    const std::uint64_t chunk = little_endian(file + at, width);
    if (chunk > size - at - width) fail(header, "its first chunk overruns the file");
    blocks.push_back({at + width, at + width + chunk});
  } else if (std::to_integer<unsigned>(file[header]) == 1) {
    const std::uint64_t chunk = little_endian(file + header + 8, 4);
    if (chunk > size - header - 16) fail(header, "its first chunk overruns the file");
    blocks.push_back({header + 16, header + 16 + chunk});
  } else {
    return;  // a version HDF5 refuses itself
  }
  constexpr std::size_t kMaxBlocks = 4096;  // HDF5 follows continuation cycles; hpcad does not
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (b == kMaxBlocks) fail(header, "too many continuation blocks");
    const Block block = blocks[b];
    for (std::uint64_t at = block.begin; block.end - at >= prefix;) {
      const std::uint64_t type = little_endian(file + at, version_2 ? 1 : 2);
      const std::uint64_t bytes = little_endian(file + at + (version_2 ? 1 : 2), 2);
      const bool shared = (std::to_integer<unsigned>(file[at + (version_2 ? 3 : 4)]) & 0x02) != 0;
      const std::uint64_t body = at + prefix;
      if (bytes > block.end - body) fail(at, fmt::format("message of {} bytes overruns it", bytes));
      if (type == 0x10 && bytes >= offset_size + length_size) {  // continuation
        const std::uint64_t next = little_endian(file + body, offset_size);
        const std::uint64_t length = little_endian(file + body + offset_size, length_size);
        const std::uint64_t skip = version_2 ? 4 : 0;  // "OCHK" ... checksum
        if (next < size && length <= size - next && length >= 2 * skip)
          blocks.push_back({next + skip, next + length - skip});
      } else if (type == 0x0C && !shared && bytes >= 8) {  // attribute
        const std::uint64_t needed = attribute_header_bytes(file + body);
        // HDF5 knows attribute messages of versions 1 to 3 only; the layout of any other is
        // unknown, so nothing in it can be checked (found by fuzz_model_file).
        if (needed == 0)
          fail(at, fmt::format("an attribute message of unknown version {}",
                               std::to_integer<unsigned>(file[body])));
        if (needed > bytes)
          fail(at, fmt::format("an attribute declares {} bytes of name, datatype and dataspace "
                               "in a message of {}",
                               needed, bytes));
        const auto* name = reinterpret_cast<const char*>(file + body) +
                           (std::to_integer<unsigned>(file[body]) == 3 ? 9 : 8);
        const std::string attribute(name, strnlen(name, little_endian(file + body + 2, 2)));
        check_string_references(file, size, offset_size, length_size, file + body, bytes,
                                [&](const std::string& what) {
                                  fail(at, fmt::format("attribute '{}': {}", attribute, what));
                                });
      } else if (type == 0x0C && !shared) {
        fail(at, fmt::format("an attribute message of {} bytes", bytes));
      }
      at = body + bytes;
    }
  }
}

/// Whether the attribute exists; a corrupt attribute table is an error, not "absent" (which
/// would silently drop e.g. feature names).
bool attribute_exists(hid_t object, const std::string& name) {
  check_attribute_messages(object, "attribute " + name);
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

/// HDF5 1.10's global heap parser (H5HG__cache_heap_deserialize; the heap holds the values
/// of variable-length strings) walks a collection's objects by their declared sizes, and
/// loops forever on an object whose size does not advance the walk (a free-space object of
/// size 0, or a size that wraps the pointer). A crafted model file hung `hpcad score` that
/// way (found by tests/fuzz/fuzz_model_file). So before HDF5 sees an image, every
/// collection in it ("GCOL", version 1, lying within the image) is walked the same way, and
/// one whose objects overrun it is refused. HDF5 never writes such a collection.
void check_global_heaps(std::span<const std::byte> image, const std::string& name) {
  const Superblock superblock = find_superblock(image);
  const std::size_t length = superblock.length_size;
  if (!superblock.found || length == 0 || length > 8) return;  // HDF5 refuses the file itself
  const std::size_t header = 8 + length;  // collection: "GCOL", version, 3 reserved, size;
                                          // object: index, references, 4 reserved, size
  static constexpr std::string_view kCollection = "GCOL";
  for (std::size_t at = 0; at + header <= image.size(); ++at) {
    if (std::memcmp(image.data() + at, kCollection.data(), kCollection.size()) != 0 ||
        std::to_integer<unsigned>(image[at + 4]) != 1)
      continue;
    const std::uint64_t size = little_endian(image.data() + at + 8, length);
    if (size < header || size > image.size() - at) continue;  // HDF5 cannot load it
    const std::size_t end = at + size;
    for (std::size_t object = at + header; object < end;) {
      if (end - object < header) break;  // a tail too small for an object is free space
      const std::uint64_t index = little_endian(image.data() + object, 2);
      const std::uint64_t declared = little_endian(image.data() + object + 8, length);
      const std::uint64_t limit = end - object;
      // Object 0 (free space) counts its own header; the others are padded to 8 bytes.
      const std::uint64_t step =
          index == 0 ? declared : declared > limit ? limit + 1 : header + (declared + 7) / 8 * 8;
      if (step == 0 || step > limit)
        throw DataError(fmt::format(
            "{}: corrupt HDF5 global heap at byte {}: object {} at byte {} declares {} bytes, "
            "{} remain in the collection",
            name, at, index, object, declared, limit));
      object += step;
    }
  }
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
  check_global_heaps(image, name);
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
  // An empty list (e.g. a step's `columns = []`) is the empty attribute; HDF5 refuses to
  // write from the null buffer of an empty vector.
  if (!texts.empty())
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
  if (count == 0) return values;
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
