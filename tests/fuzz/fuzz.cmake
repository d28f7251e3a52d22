# libFuzzer executables fuzz_<target> (tests/fuzz/fuzz_<target>.cpp), built only with -DMTINET_FUZZ=ON and clang,
# whose sanitizer and coverage flags tools/fuzz.sh passes in CMAKE_CXX_FLAGS so that mtinet_lib is instrumented too.
# CI needs nothing from here: the same target functions run in mtinet_tests, which replays the corpus and the
# regression files with the normal g++ build (tests/test_fuzz_replay.cpp includes them).
option(MTINET_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only; see tools/fuzz.sh)" OFF)
set(MTINET_FUZZ_TARGETS safetensors npy image config)
if(MTINET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MTINET_FUZZ needs clang (libFuzzer); got ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # Two UBSan checks are off for stb_image (third-party, Debian 12's 2.27) because their reports are harmless there
  # and would stop every run before anything else is found; ASan and the other checks still cover stb:
  # - nonnull-attribute: memcpy of 0 bytes to NULL when a PNG's first IDAT chunk is empty (legal PNG);
  # - shift-exponent: corrupt JPEG entropy data drives its bit count negative and a refill shifts by more than 31
  #   (x86 masks the count; the pixels are garbage, no memory is touched). Upstream checks this since 2.28.
  set_property(SOURCE ${CMAKE_SOURCE_DIR}/data/stb_impl.cpp APPEND PROPERTY COMPILE_OPTIONS
               -fno-sanitize=nonnull-attribute,shift-exponent)
  foreach(target ${MTINET_FUZZ_TARGETS})
    add_executable(fuzz_${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.cpp)
    target_compile_definitions(fuzz_${target} PRIVATE MTINET_LIBFUZZER=1)
    target_link_libraries(fuzz_${target} PRIVATE mtinet_lib)
    target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
