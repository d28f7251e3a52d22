#include "layers/activation_tap.h"

#include "core/error.h"

namespace mtinet::tap {

namespace {
thread_local Recorder* current = nullptr;
}

Recorder::Recorder() {
  MTINET_CHECK(current == nullptr, "tap::Recorder: one is already recording on this thread");
  current = this;
}

Recorder::~Recorder() { current = nullptr; }

Scope::Scope(const std::string& component) {
  if (current == nullptr) return;
  current->path_.push_back(component);
  pushed_ = true;
}

Scope::~Scope() {
  if (pushed_ && current != nullptr) current->path_.pop_back();
}

bool active() { return current != nullptr; }

void record(const std::string& name, const Tensor& t) {
  if (current == nullptr) return;
  std::string full;
  for (const std::string& p : current->path_) full += p + ".";
  current->maps_.emplace_back(full + name, t.detach());
}

}  // namespace mtinet::tap
