#include "golden_dump.h"

#include "core/layout.h"
#include "core/ops.h"
#include "core/safetensors.h"

namespace mtinet {

void write_golden_dump(MultiTaskNetwork& model, const Tensor& input_nchw, const std::string& path) {
  MTINET_CHECK(input_nchw.ndim() == 4 && input_nchw.dim(1) == 3, "write_golden_dump: input ",
               input_nchw.describe(), " must be NCHW {N,3,H,W}");
  Tensor x = nchw_to_nhwc(input_nchw.to(Device::CPU)).to(model.parameters().front().device());
  x.set_requires_grad(true);
  model.train();
  ModelOutput out = model.forward(x);
  std::vector<std::pair<std::string, Tensor>> dump;
  Tensor loss;
  auto record = [&](const std::string& key, const Tensor& y) {
    dump.emplace_back(key, nhwc_to_nchw(y.detach().to(Device::CPU)));
    Tensor term = ops::mean(ops::mul(y, y));
    loss = loss.defined() ? ops::add(loss, term) : term;
  };
  for (const auto& [task, y] : out.tasks) record("out." + task, y);
  for (size_t s = 0; s < out.deep_supervision.size(); ++s)
    for (const auto& [task, y] : out.deep_supervision[s])
      record("deep_supervision." + std::to_string(s) + "." + task, y);
  MTINET_CHECK(loss.defined(), "write_golden_dump: the model produced no outputs");
  loss.backward();
  dump.emplace_back("loss", loss.detach());
  dump.emplace_back("grad.input", nhwc_to_nchw(x.grad().to(Device::CPU)));
  for (const StateEntry& e : model.state_entries()) {
    if (e.is_buffer) continue;
    Tensor g = e.tensor.grad();
    MTINET_CHECK(g.defined(), "write_golden_dump: parameter '", e.name, "' got no gradient");
    dump.emplace_back("grad." + e.name, e.layout == ExportLayout::ConvWeight ? ohwi_to_oihw(g.to(Device::CPU)) : g);
  }
  save_safetensors(path, dump);
}

}  // namespace mtinet
