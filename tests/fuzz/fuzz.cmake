# libFuzzer executables fuzz_<target> (tests/fuzz/fuzz_<target>.cpp), built only with -DMTINET_FUZZ=ON and clang,
# whose sanitizer and coverage flags tools/fuzz.sh passes in CMAKE_CXX_FLAGS so that mtinet_lib is instrumented too.
# CI needs nothing from here: the same target functions run in mtinet_tests, which replays the corpus and the
# regression files with the normal g++ build (tests/test_fuzz_replay.cpp includes them).
option(MTINET_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only; see tools/fuzz.sh)" OFF)
set(MTINET_FUZZ_TARGETS safetensors npy image config torch mat split)
if(MTINET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MTINET_FUZZ needs clang (libFuzzer); got ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # (stb_image is built without two harmless UBSan checks: see the top-level CMakeLists.txt.)
  foreach(target ${MTINET_FUZZ_TARGETS})
    add_executable(fuzz_${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.cpp)
    target_compile_definitions(fuzz_${target} PRIVATE MTINET_LIBFUZZER=1)
    target_link_libraries(fuzz_${target} PRIVATE mtinet_lib)
    target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
