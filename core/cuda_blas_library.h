// cuBLAS, loaded with dlopen on first use instead of linked into mtinet.
//
// Why: a process linked with cuBLAS 13 pays ~140 MiB of resident memory before main() runs (libcublasLt's static
// initialisers write ~80 MiB of its .bss, and relocating it touches ~60 MiB of its code), CPU-only runs included:
// `mtinet --version` peaked at 228 MiB. mtinet calls a handful of cuBLAS functions (the linear layers' GEMM and
// the handle set-up), so they are resolved here by name, the first time a CUDA GEMM or `mtinet info` needs them.
// The names are the _v2 symbols that cublas_v2.h maps the plain ones to.
#pragma once
#include <cublas_v2.h>

#include <string>

namespace mtinet::cuda {

struct CublasLibrary {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSetWorkspace_v2) set_workspace = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasGetProperty) get_property = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

// The loaded library; throws, naming the file and the loader's reason, when it cannot be loaded or lacks a function.
const CublasLibrary& cublas_library();
// "" when cublas_library() would succeed, else the reason it fails (for `mtinet info`).
std::string cublas_load_error();

}  // namespace mtinet::cuda
