#include "train/loss_readback.h"

namespace mtinet {

LossReadback::LossReadback(int64_t lag) : lag_(lag) {
  MTINET_CHECK(lag >= 0, "loss readback: the lag must be >= 0 steps, got ", lag);
}

void LossReadback::begin(StepRecord record, const Tensor& total, const std::map<std::string, Tensor>& task_losses) {
  MTINET_CHECK(total.defined() && total.ndim() == 0, "loss readback: the total loss must be a 0-d tensor");
  // One tensor [total, task losses in name order], so the host receives the step in one copy. Device-to-device
  // copies of single elements are queued like kernels: no synchronisation.
  Tensor gathered = Tensor::empty({int64_t(1 + task_losses.size())}, total.dtype(), total.device());
  Tensor::view_of(gathered, 0, {}).copy_from(total);
  int64_t at = 1;
  for (const auto& [name, loss] : task_losses) {
    MTINET_CHECK(loss.ndim() == 0 && loss.dtype() == total.dtype() && loss.device() == total.device(),
                 "loss readback: the loss of '", name, "' (", loss.describe(), ") must be 0-d and match the total (",
                 total.describe(), ")");
    Tensor::view_of(gathered, at++, {}).copy_from(loss);
    record.task_losses[name] = 0;  // the names now, the values when read
  }
  Entry e;
  e.record = std::move(record);
  if (!spare_.empty()) {
    e.copy = std::move(spare_.back());
    spare_.pop_back();
  } else {
    e.copy = std::make_unique<HostReadback>();
  }
  e.copy->start(gathered);
  entries_.push_back(std::move(e));
}

void LossReadback::end(double images_per_s) {
  MTINET_CHECK(!entries_.empty() && !entries_.back().ended, "loss readback: end() without a step begun");
  entries_.back().record.images_per_s = images_per_s;
  entries_.back().ended = true;
}

std::vector<StepRecord> LossReadback::read(bool all) {
  std::vector<StepRecord> out;
  size_t due = all ? entries_.size() : entries_.size() > size_t(lag_) ? entries_.size() - size_t(lag_) : 0;
  for (size_t i = 0; i < due; ++i) {
    Entry& e = entries_[i];
    if (!e.copy) continue;  // read by an earlier call
    std::vector<double> v = e.copy->wait().to_double_vector();
    spare_.push_back(std::move(e.copy));
    if (reduce_) reduce_(v);
    e.record.loss = v[0];
    size_t k = 1;
    for (auto& entry : e.record.task_losses) entry.second = v[k++];
    out.push_back(e.record);
  }
  return out;
}

std::vector<StepRecord> LossReadback::take_finished() {
  std::vector<StepRecord> out;
  while (!entries_.empty() && !entries_.front().copy && entries_.front().ended) {
    out.push_back(std::move(entries_.front().record));
    entries_.pop_front();
  }
  return out;
}

}  // namespace mtinet
