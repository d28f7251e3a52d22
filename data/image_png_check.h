// Guards against PNGs that make stb_image allocate far more than the image needs. stb sizes two buffers from what
// the file claims rather than from what it holds:
// - it grows its compressed-data buffer to each IDAT chunk's declared length before reading the chunk, so a
//   106-byte file declaring a 1 GB chunk allocated 2 GB (found by tests/fuzz);
// - its inflate output grows without bound (doubling, up to 4 GB) while the zlib stream keeps producing data, so a
//   261 KB 1x1 PNG whose data inflates to 256 MB allocated 256 MB; deflate's 1032:1 ratio lets a 2 MB file reach 2 GB.
// The image dimensions themselves are bounded separately (kMaxImageSide, kMaxImagePixels in data/image.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mtinet {

// Throws an Error naming `source` when a chunk extends past the end of the file, or when the image data (IDAT) is
// corrupt or inflates to more than 1.5 times (plus 1 MiB) what the declared image needs. The inflate check runs only
// when the IDAT data exceeds 256 KiB: smaller data cannot inflate beyond ~264 MB, and most label maps stay below it.
// Call it after bounding the dimensions: the check allocates for the declared image.
void check_png_chunks(const uint8_t* data, size_t size, const std::string& source);

}  // namespace mtinet
