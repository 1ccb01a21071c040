#pragma once
#include <cstdint>

namespace hpcad {

/// Row and element counts and global row indices: always 64-bit.
using Index = std::int64_t;

}  // namespace hpcad
