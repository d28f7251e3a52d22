// Where a tensor's storage lives.
#pragma once
#include <string>

namespace mtinet {

enum class Device { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
Device parse_device(const std::string& s);  // "cpu" | "cuda" | "auto" (= default_device()); throws otherwise

// True when this binary was built with the CUDA backend and a GPU is present at run time.
bool cuda_available();
// Why cuda_available() is false, for messages: no CUDA backend in this build, the driver's error (e.g. a driver older
// than the runtime), or no GPU. Empty when a GPU is available.
std::string cuda_unavailable_reason();
// CUDA when available, else CPU: the default for commands that take --device.
Device default_device();
// Waits until all work queued on the device has finished (a no-op on the CPU): before reading clocks, e.g.
void synchronize(Device d);

}  // namespace mtinet
