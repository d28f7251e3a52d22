#include "core/storage.h"

#include "core/allocator.h"

namespace mtinet {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes_ > 0) data_ = allocator_for(device_).allocate(bytes_);
}

Storage::~Storage() {
  if (data_) allocator_for(device_).deallocate(data_, bytes_);
}

}  // namespace mtinet
