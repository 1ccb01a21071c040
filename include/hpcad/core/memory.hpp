#pragma once
#include <cstddef>

namespace hpcad {

/// Local. Asks the kernel for transparent huge pages on a large buffer before its first
/// touch: filling hundreds of MB of fresh 4 KiB pages otherwise costs one page fault each,
/// several times the decoding work in the readers (measured: ~1 s of faults for a 256 MB
/// slab against 0.17 s of decoding). Advice only; small buffers and failures are ignored.
void advise_huge_pages(const void* data, std::size_t bytes);

}  // namespace hpcad
