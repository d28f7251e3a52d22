// Fuzz target: image decoding through stb_image, as load_image does it for a file of unknown extension (PNG or
// JPEG accepted), once keeping the file's channels (segmentation labels) and once converting to RGB (images); and
// indexed PNGs as palette indices (data/png_palette.h, PASCAL's VOC-style label PNGs).
#include "data/image.h"
#include "data/png_palette.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_image(const uint8_t* data, size_t size) {
  for (int channels : {0, 3}) {
    try {
      decode_image(data, size, "fuzz.img", ImageFormat::PngOrJpeg, channels);
    } catch (const Error&) {
      // A rejected file is the expected outcome for most inputs.
    }
  }
  try {
    if (png_is_indexed(data, size)) decode_png_indices(data, size, "fuzz.png");
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_image)
