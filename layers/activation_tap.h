// A window into a forward pass: while a tap::Recorder is alive on this thread, the modules that compute something
// worth seeing (the FPM's softmax mask, each spatial-attention map of the distillation) hand it over, named by the
// path of the module in the state_dict, e.g. "fpm_scale_2.mask" or
// "distillation_scale_0.self_attention.semseg.depth.attention". `mtinet predict --explain` draws them
// (eval/explain.h). Without a recorder nothing is kept and a Scope costs a thread-local check.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace mtinet::tap {

// Collects the maps recorded on this thread during its lifetime (one recorder per thread at a time).
class Recorder {
 public:
  Recorder();
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  const std::vector<std::pair<std::string, Tensor>>& maps() const { return maps_; }

 private:
  friend void record(const std::string& name, const Tensor& t);
  friend class Scope;
  std::vector<std::pair<std::string, Tensor>> maps_;
  std::vector<std::string> path_;
};

// Adds one component to the names recorded inside it (a parent module naming the child it calls).
class Scope {
 public:
  explicit Scope(const std::string& component);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool pushed_ = false;
};

bool active();
// Keeps a detached copy of t under <scope path>.<name>; nothing when no recorder is alive.
void record(const std::string& name, const Tensor& t);

}  // namespace mtinet::tap
