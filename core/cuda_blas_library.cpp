#include "core/cuda_blas_library.h"

#include <dlfcn.h>

#include <string>
#include <type_traits>

#include "core/error.h"

// Set by CMakeLists.txt for this file: the toolkit's cuBLAS soname (libcublas.so.<major>) and its folder.
#ifndef MTINET_CUBLAS_SONAME
#error "MTINET_CUBLAS_SONAME must name the cuBLAS shared library (CMakeLists.txt sets it)"
#endif

namespace mtinet::cuda {

namespace {

struct Loaded {
  CublasLibrary functions;
  std::string error;  // empty when loaded
};

// The soname as the dynamic loader finds it (LD_LIBRARY_PATH, the executable's RUNPATH, the system's cache), else
// the copy in the toolkit mtinet was built with.
void* open_library(std::string& tried) {
  const std::string candidates[] = {MTINET_CUBLAS_SONAME, std::string(MTINET_CUBLAS_DIR) + "/" + MTINET_CUBLAS_SONAME};
  for (const std::string& name : candidates) {
    if (void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
  }
  return nullptr;
}

Loaded load() {
  Loaded out;
  std::string tried;
  void* handle = open_library(tried);
  if (!handle) {
    out.error = "cannot load cuBLAS (" + std::string(MTINET_CUBLAS_SONAME) + "): " + tried;
    return out;
  }
  auto resolve = [&](auto& slot, const char* symbol) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(handle, symbol));
    if (!slot && out.error.empty()) out.error = std::string(MTINET_CUBLAS_SONAME) + " has no function " + symbol;
  };
  CublasLibrary& f = out.functions;
  resolve(f.create, "cublasCreate_v2");
  resolve(f.set_stream, "cublasSetStream_v2");
  resolve(f.set_math_mode, "cublasSetMathMode");
  resolve(f.set_workspace, "cublasSetWorkspace_v2");
  resolve(f.sgemm, "cublasSgemm_v2");
  resolve(f.get_property, "cublasGetProperty");
  resolve(f.status_string, "cublasGetStatusString");
  return out;
}

const Loaded& loaded() {
  static const Loaded library = load();  // thread-safe one-time initialisation
  return library;
}

}  // namespace

const CublasLibrary& cublas_library() {
  MTINET_CHECK(loaded().error.empty(), loaded().error);
  return loaded().functions;
}

std::string cublas_load_error() { return loaded().error; }

}  // namespace mtinet::cuda
