// HostReadback: a copy of a small tensor to the host that the host collects later, without stopping the device.
//
// item() and to_double_vector() wait for everything queued on the device before the value: reading a loss right
// after the forward pass leaves the GPU idle while the host then queues the backward pass. start() instead queues
// the copy on the compute stream (into page-locked memory, the only kind a device->host copy can fill without
// blocking the host) and returns at once; wait() then waits for that copy alone, not for the work queued after it.
// A CPU tensor is copied at once, so on the CPU wait() never waits.
#pragma once
#include "core/tensor.h"

namespace mtinet {

#ifdef MTINET_WITH_CUDA
struct CudaReadback;  // core/cuda_readback.cpp: page-locked buffer and the event recorded after the copy
#endif

class HostReadback {
 public:
  HostReadback() = default;
  ~HostReadback();
  HostReadback(const HostReadback&) = delete;
  HostReadback& operator=(const HostReadback&) = delete;

  // Queues the copy of `src` as it will be once the work queued so far has run (work queued later cannot change
  // what is read). A copy not yet collected is waited for and dropped first.
  void start(const Tensor& src);
  bool pending() const { return src_.defined(); }
  // The copy as a CPU tensor of src's shape and dtype; waits for the copy only. Needs a pending copy.
  Tensor wait();

 private:
  Tensor src_;   // held until collected, so its memory cannot be handed to another tensor before the copy ran
  Tensor host_;  // a CPU source's copy, made by start()
#ifdef MTINET_WITH_CUDA
  CudaReadback* cuda_ = nullptr;  // created on the first device copy, reused by later ones
#endif
};

}  // namespace mtinet
