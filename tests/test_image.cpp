// Image decode/encode: PNG round trips (8-bit grey and RGB), 16-bit PNG, JPEG, corrupt and missing files.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/image.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("PNG round trip, RGB and grey, and channel conversion") {
  Tensor img = Tensor::empty({5, 7, 3}, DType::U8);
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[i] = uint8_t((i * 37) % 256);
  save_png("/tmp/mtinet_rgb.png", img);
  Tensor back = load_image("/tmp/mtinet_rgb.png");
  CHECK(back.shape() == img.shape());
  CHECK(back.to_double_vector() == img.to_double_vector());
  Tensor grey = load_image("/tmp/mtinet_rgb.png", 1);
  CHECK(grey.shape() == Shape{5, 7, 1});
}

TEST_CASE("16-bit PNG keeps 16-bit values and JPEG decodes") {
  Tensor d16 = load_image(fixture_path("images/depth16.png"));
  CHECK(d16.dtype() == DType::I32);
  CHECK(d16.shape() == Shape{4, 6, 1});
  std::vector<double> v = d16.to_double_vector();
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == double(i * 2500));  // written by tools/golden/image_samples.py
  Tensor jpg = load_image(fixture_path("images/gradient.jpg"));
  CHECK(jpg.shape() == Shape{16, 24, 3});
  // A smooth horizontal red gradient survives JPEG within a few levels.
  CHECK(std::abs(double(jpg.data<uint8_t>()[(8 * 24 + 12) * 3]) - 12 * 10) <= 6);
}

TEST_CASE("corrupt and missing images give errors naming the file") {
  {
    std::ofstream f("/tmp/mtinet_corrupt.png", std::ios::binary);
    f << "\x89PNG\r\n\x1a\n this is not really a png";
  }
  CHECK_THROWS_WITH_AS(load_image("/tmp/mtinet_corrupt.png"), doctest::Contains("/tmp/mtinet_corrupt.png"), Error);
  CHECK_THROWS_WITH_AS(load_image("/nonexistent/a.jpg"), doctest::Contains("/nonexistent/a.jpg"), Error);
  CHECK_THROWS_AS(save_png("/tmp/x.png", Tensor::zeros({2, 2, 3}, DType::F32)), Error);
}

namespace {

// A private temporary file holding `bytes`, named `name` (the extension matters to load_image).
std::string temp_file(const std::string& name, const std::string& bytes) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("mtinet_test_" + std::to_string(::getpid()) + "_" + name)).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

const std::string kRegressions = MTINET_FIXTURE_DIR "/../fuzz/regressions/image/";

void append_u32_be(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += char(v >> shift);
}

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

std::string png_chunk(const std::string& type, const std::string& body) {
  std::string out;
  append_u32_be(out, uint32_t(body.size()));
  out += type + body;
  append_u32_be(out, crc32(type + body));
  return out;
}

// An 8-bit grey PNG of the given size whose image data is `raw` (filter bytes included), stored uncompressed: a zlib
// stream of stored deflate blocks, so the test needs no compressor.
std::string grey_png(uint32_t width, uint32_t height, const std::string& raw) {
  std::string ihdr;
  append_u32_be(ihdr, width);
  append_u32_be(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);
  std::string z = "\x78\x01";
  for (size_t at = 0; at < raw.size() || at == 0; at += 65535) {
    size_t n = std::min<size_t>(65535, raw.size() - at);
    z += char(at + n >= raw.size() ? 1 : 0);  // BFINAL on the last block; BTYPE 00 = stored
    z += char(n & 0xFF);
    z += char(n >> 8);
    z += char(~n & 0xFF);
    z += char((~n >> 8) & 0xFF);
    z += raw.substr(at, n);
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  append_u32_be(z, b << 16 | a);
  return "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", z) + png_chunk("IEND", "");
}

}  // namespace

TEST_CASE("image files must hold the format their name promises (fuzz regression)") {
  // PNM data under a .png name was decoded and trained on; stb also reads HDR, TGA, BMP, GIF, PSD and PIC.
  const std::string pnm = "P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06";
  std::string p = temp_file("pnm.png", pnm);
  std::string want = p + "' should be PNG (its name ends in .png) but holds PNM data";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  p = temp_file("radiance.png", "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n\x01\x01\x01\x80");
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains("but holds HDR data"), Error);
  p = temp_file("png_in.jpg", file_bytes(fixture_path("images/depth16.png")));
  want = p + "' should be JPEG (its name ends in .jpg or .jpeg) but holds PNG data";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  p = temp_file("jpeg_in.PNG", file_bytes(fixture_path("images/gradient.jpg")));
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains("should be PNG (its name ends in .png) but holds JPEG"), Error);
  p = temp_file("empty.png", "");
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains("holds nothing (the file is empty)"), Error);
  // Another or no extension: PNG or JPEG, told apart by their magic bytes; nothing else.
  p = temp_file("pnm.img", pnm);
  want = p + "' should be PNG or JPEG but holds PNM data";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  CHECK(load_image(temp_file("upper.JPEG", file_bytes(fixture_path("images/gradient.jpg")))).shape() ==
        Shape{16, 24, 3});
  CHECK(load_image(temp_file("noext", file_bytes(fixture_path("images/depth16.png")))).shape() == Shape{4, 6, 1});
  const std::string regression = kRegressions + "pnm_named.png";
  want = regression + "' should be PNG (its name ends in .png) but holds PNM data";
  CHECK_THROWS_WITH_AS(load_image(regression), doctest::Contains(want.c_str()), Error);
}

TEST_CASE("image_format_from_name reads the extension, in any case") {
  CHECK(image_format_from_name("a/b.png") == ImageFormat::Png);
  CHECK(image_format_from_name("B.PnG") == ImageFormat::Png);
  CHECK(image_format_from_name("x.jpg") == ImageFormat::Jpeg);
  CHECK(image_format_from_name("x.JPEG") == ImageFormat::Jpeg);
  CHECK(image_format_from_name("x.bmp") == ImageFormat::PngOrJpeg);
  CHECK(image_format_from_name("dir.png/file") == ImageFormat::PngOrJpeg);
  CHECK(image_format_from_name("png") == ImageFormat::PngOrJpeg);
}

TEST_CASE("image dimensions are bounded before anything is allocated (fuzz regression)") {
  // The header of a 420 KB PNG declaring 12000x12000: stb allocated 432 MB twice from the header alone, and
  // `mtinet predict` then 23 GB. Now the header is read first and the image refused.
  std::string path = kRegressions + "png_12000x12000.png";
  std::string want = path + "' is 12000x12000 pixels, larger than mtinet decodes (at most 16384 per side and "
                            "67108864 pixels)";
  CHECK_THROWS_WITH_AS(load_image(path), doctest::Contains(want.c_str()), Error);
  // A 1 KB progressive JPEG declaring 26000x26000: stb allocated 2.9 GB of buffers from its header.
  path = kRegressions + "jpeg_26000x26000.jpg";
  want = path + "' is 26000x26000 pixels";
  CHECK_THROWS_WITH_AS(load_image(path), doctest::Contains(want.c_str()), Error);
  // The side limit holds on its own: 16384 wide decodes, 16385 does not.
  Tensor row = Tensor::zeros({1, kMaxImageSide, 1}, DType::U8);
  std::string ok = temp_file("wide.png", "");
  save_png(ok, row);
  CHECK(load_image(ok).shape() == Shape{1, kMaxImageSide, 1});
  std::string wide = temp_file("too_wide.png", "");
  save_png(wide, Tensor::zeros({1, kMaxImageSide + 1, 1}, DType::U8));
  want = wide + "' is 16385x1 pixels";
  CHECK_THROWS_WITH_AS(load_image(wide), doctest::Contains(want.c_str()), Error);
}

TEST_CASE("JPEG Huffman tables stb would overrun are refused before stb reads them (fuzz regression)") {
  // More than 256 codes in a table: Debian 12's stb_image 2.27 wrote past its Huffman arrays (found by fuzz_image).
  std::string jpg = file_bytes(fixture_path("images/gradient.jpg"));
  size_t dht = jpg.find("\xFF\xC4");
  REQUIRE(dht != std::string::npos);
  for (size_t i = 0; i < 16; ++i) jpg[dht + 5 + i] = 17;  // 16 code counts of 17: 272 codes
  std::string p = temp_file("dht.jpg", jpg);
  std::string want = p + "': a JPEG Huffman table declares 272 codes, more than the 256 one can hold";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  const std::string regression = kRegressions + "jpeg_dht_over_256_codes.jpg";
  CHECK_THROWS_WITH_AS(load_image(regression), doctest::Contains("more than the 256 one can hold"), Error);
  // A scan using a table no DHT defined: stb decoded with uninitialised tables and read far outside them.
  jpg = file_bytes(fixture_path("images/gradient.jpg"));
  size_t ac1 = jpg.find("\xFF\xC4");
  while (ac1 != std::string::npos && jpg[ac1 + 4] != '\x11') ac1 = jpg.find("\xFF\xC4", ac1 + 2);
  REQUIRE(ac1 != std::string::npos);
  jpg[ac1 + 4] = '\x13';  // defines AC table 3 instead of 1, which the chroma scan still uses
  p = temp_file("undefined_table.jpg", jpg);
  want = p + "': a JPEG scan uses AC Huffman table 1, which the file has not defined";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  const std::string undefined = kRegressions + "jpeg_scan_uses_undefined_table.jpg";
  CHECK_THROWS_WITH_AS(load_image(undefined), doctest::Contains("which the file has not defined"), Error);
  // Valid JPEGs pass the check, including progressive ones with Huffman tables between their scans.
  const std::string corpus = MTINET_FIXTURE_DIR "/../fuzz/corpus/image/";
  CHECK(load_image(corpus + "progressive_16x8.jpg").shape() == Shape{8, 16, 3});
  CHECK(load_image(corpus + "grey_restart_444_9x9.jpg").shape() == Shape{9, 9, 1});
  CHECK(load_image(corpus + "baseline_420_17x9.jpg", 3).shape() == Shape{9, 17, 3});
}

TEST_CASE("PNG data is bounded by the file and by the declared image before stb allocates (fuzz regression)") {
  // A 106-byte file whose IDAT chunk declared 1 GB: stb grew its buffer to 2 GB before finding the data missing.
  std::string path = kRegressions + "png_idat_length_past_eof.png";
  std::string want = path + "': PNG chunk 'IDAT' at byte 90 declares 1090519040 bytes, more than the file holds";
  CHECK_THROWS_WITH_AS(load_image(path), doctest::Contains(want.c_str()), Error);
  // A 4x2 image whose data inflates to 1.5 MB: stb's output buffer grew with the stream (a 1 MB file compressed from
  // zeros reached 1 GB). Data beyond what the image needs is refused once there is enough of it to matter.
  std::string rows = std::string("\x00\x01\x02\x03\x04\x00\x05\x06\x07\x08", 10);
  std::string bomb = grey_png(4, 2, rows + std::string(1500000, '\x07'));
  std::string p = temp_file("bomb.png", bomb);
  want = p + "': its PNG image data is corrupt or inflates to more than 1048591 bytes, while a 4x2 image needs 10";
  CHECK_THROWS_WITH_AS(load_image(p), doctest::Contains(want.c_str()), Error);
  // The same image with its exact data decodes, and so does one with a little extra data, which stb ignores.
  Tensor ok = load_image(temp_file("exact.png", grey_png(4, 2, rows)));
  CHECK(ok.to_double_vector() == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(load_image(temp_file("extra.png", grey_png(4, 2, rows + std::string(400000, '\0')))).shape() ==
        Shape{2, 4, 1});
}
