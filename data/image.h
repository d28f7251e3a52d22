// Image decoding (JPEG, PNG 8- and 16-bit, via stb_image) and PNG writing (stb_image_write).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mtinet {

// The only formats decoded. stb_image also reads PNM, HDR, TGA, BMP, GIF, PSD and PIC, but a dataset file holding
// one of those under a .png/.jpg name is a mistake to report, not data to train on (TGA has no magic bytes at all,
// so stb would take many a corrupt file for one).
enum class ImageFormat { Png, Jpeg, PngOrJpeg };

// The format a file's name promises: .png -> Png, .jpg/.jpeg -> Jpeg (any case), any other name -> PngOrJpeg.
ImageFormat image_format_from_name(const std::string& path);

// Decoded images are bounded before stb allocates anything: stb sizes its buffers from the header alone, so a
// 420 KB PNG declaring 12000x12000 pixels (a valid "decompression bomb") made `mtinet predict` allocate 23 GB.
// 2^26 pixels (64 Mpx, e.g. 8192x8192) is more than any camera photo or dataset image here (NYUD 640x480, PASCAL
// 500x500) and below Pillow's decompression-bomb threshold (89.5 Mpx); it caps the decoder's largest buffer at
// 1 GiB (16-bit RGBA held as i32). 16384 per side still admits long panoramas within the pixel budget.
constexpr int64_t kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;

// Decodes an image file into an {H, W, C} CPU tensor: u8 for 8-bit files, i32 (0..65535) for 16-bit PNGs.
// channels = 0 keeps the file's channel count; 1/3 converts (grey <-> RGB). The file must hold the format its name
// promises (image_format_from_name). Errors name the file.
Tensor load_image(const std::string& path, int channels = 0);
// The same for an in-memory file; `source` names it in error messages.
Tensor decode_image(const uint8_t* data, size_t size, const std::string& source, ImageFormat expected,
                    int channels = 0);
// Writes an {H, W, C} u8 tensor (C = 1, 3 or 4) as PNG, atomically.
void save_png(const std::string& path, const Tensor& image);

}  // namespace mtinet
