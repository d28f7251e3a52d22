// A block of memory on one device, shared by every tensor that views it. The version counter is bumped by
// every in-place write so that autograd can tell when a tensor saved for backward was overwritten.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace mtinet {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace mtinet
