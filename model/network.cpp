// The one piece of the model interface with a body: how a forward hands over a main task's final prediction.
#include "model/network.h"

#include "core/ops.h"

namespace mtinet {

void MultiTaskNetwork::set_final(ModelOutput& out, const std::string& task, const Tensor& y, const Tensor& x,
                                 FinalPredictions finals) {
  if (finals == FinalPredictions::AtInputSize) {
    out.tasks[task] = ops::resize_bilinear(y, x.dim(1), x.dim(2));
    return;
  }
  out.tasks_before_upsampling[task] = y;
  out.upsampled_size[0] = x.dim(1);
  out.upsampled_size[1] = x.dim(2);
}

}  // namespace mtinet
