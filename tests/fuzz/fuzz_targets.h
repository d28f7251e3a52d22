// Fuzz targets: one function per parser, fed raw bytes. Each returns normally when the parser accepts the input or
// rejects it with mtinet::Error; anything else (a crash, another exception type, a sanitizer report, a hang, a huge
// allocation) is a finding. The same functions run under libFuzzer (tools/fuzz.sh, built by tests/fuzz/fuzz.cmake)
// and in mtinet_tests, which replays the committed corpus and regression files (tests/test_fuzz_replay.cpp).
#pragma once
#include <cstddef>
#include <cstdint>

namespace mtinet::fuzz {

int fuzz_safetensors(const uint8_t* data, size_t size);  // core/safetensors: parse_safetensors
int fuzz_npy(const uint8_t* data, size_t size);          // data/npy: parse_npy
int fuzz_image(const uint8_t* data, size_t size);        // data/image: decode_image (PNG or JPEG, via stb_image)
int fuzz_config(const uint8_t* data, size_t size);       // train/config: load_train_config on the bytes as a file
int fuzz_torch(const uint8_t* data, size_t size);        // core/torch_*: parse_torch_file, torch_weights_contents
int fuzz_mat(const uint8_t* data, size_t size);          // data/mat_*: parse_mat, then the MatValue accessors
int fuzz_split(const uint8_t* data, size_t size);        // data/dataset_files: read_split_ids on the bytes as a file

}  // namespace mtinet::fuzz

// Each fuzz_<target>.cpp ends with MTINET_FUZZ_MAIN(fuzz_<target>): libFuzzer's entry point when built as a fuzzer
// (MTINET_LIBFUZZER defined), nothing in mtinet_tests.
#ifdef MTINET_LIBFUZZER
#define MTINET_FUZZ_MAIN(fn)                                                    \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {    \
    return ::mtinet::fuzz::fn(data, size);                                      \
  }
#else
#define MTINET_FUZZ_MAIN(fn)
#endif
