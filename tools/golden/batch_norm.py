"""Golden values for ops::batch_norm from torch.nn.BatchNorm2d / BatchNorm1d (float64).

Cases (keys are prefixed with the case name):
  train   NCHW x (2,3,3,5) with affine: y, input/weight/bias gradients for upstream gradient gy, running stats
          (from non-trivial initial values) after one step and after a second step on x2, momentum 0.1;
  train_m001  the same two steps with momentum 0.01: running stats only;
  eval    the module of `train` after its two steps, in eval mode on x3: y and gradients;
  noaffine  affine=False, N=1 with H,W > 1, odd sizes: y, input gradient, running stats after one step;
  flat    BatchNorm1d on a 2-d (5,4) input: y, gradients, running stats after one step.
"""
import torch

from common import rand, seeded, write_safetensors

EPS = 1e-5


def module_with_state(bn, gen):
    with torch.no_grad():
        if bn.affine:
            bn.weight.copy_(rand(bn.weight.shape, gen, 0.5, 1.5))
            bn.bias.copy_(rand(bn.bias.shape, gen))
        bn.running_mean.copy_(rand(bn.running_mean.shape, gen))
        bn.running_var.copy_(rand(bn.running_var.shape, gen, 0.5, 2.0))
    return bn


def step(bn, x, gy, out, prefix):
    """One forward/backward; records inputs, output and gradients under prefix."""
    x = x.clone().requires_grad_(True)
    if bn.affine:
        bn.weight.grad = None
        bn.bias.grad = None
    y = bn(x)
    y.backward(gy)
    out[prefix + ".x"] = x.detach()
    out[prefix + ".gy"] = gy
    out[prefix + ".y"] = y.detach()
    out[prefix + ".gx"] = x.grad
    if bn.affine:
        out[prefix + ".gweight"] = bn.weight.grad.clone()
        out[prefix + ".gbias"] = bn.bias.grad.clone()


def record_state(bn, out, prefix):
    if bn.affine:
        out[prefix + ".weight"] = bn.weight.detach().clone()
        out[prefix + ".bias"] = bn.bias.detach().clone()
    out[prefix + ".running_mean"] = bn.running_mean.clone()
    out[prefix + ".running_var"] = bn.running_var.clone()


def main():
    gen = seeded(7)
    out = {}
    shape = (2, 3, 3, 5)
    x1, x2, x3 = (rand(shape, gen, -2.0, 3.0) for _ in range(3))
    gy1, gy2, gy3 = (rand(shape, gen) for _ in range(3))

    bn = module_with_state(torch.nn.BatchNorm2d(3, eps=EPS, momentum=0.1).double(), gen)
    init = {k: v.clone() for k, v in bn.state_dict().items()}  # state_dict() aliases the live buffers
    record_state(bn, out, "train.init")
    bn.train()
    step(bn, x1, gy1, out, "train.step1")
    record_state(bn, out, "train.step1")
    step(bn, x2, gy2, out, "train.step2")
    record_state(bn, out, "train.step2")
    bn.eval()
    step(bn, x3, gy3, out, "eval")

    slow = torch.nn.BatchNorm2d(3, eps=EPS, momentum=0.01).double()
    slow.load_state_dict(init)
    slow.train()
    with torch.no_grad():
        slow(x1)
        out["train_m001.step1.running_mean"] = slow.running_mean.clone()
        out["train_m001.step1.running_var"] = slow.running_var.clone()
        slow(x2)
        out["train_m001.step2.running_mean"] = slow.running_mean.clone()
        out["train_m001.step2.running_var"] = slow.running_var.clone()

    na = module_with_state(torch.nn.BatchNorm2d(4, eps=EPS, momentum=0.1, affine=False).double(), gen)
    record_state(na, out, "noaffine.init")
    na.train()
    step(na, rand((1, 4, 3, 5), gen, -1.0, 2.0), rand((1, 4, 3, 5), gen), out, "noaffine.step1")
    record_state(na, out, "noaffine.step1")

    flat = module_with_state(torch.nn.BatchNorm1d(4, eps=EPS, momentum=0.1).double(), gen)
    record_state(flat, out, "flat.init")
    flat.train()
    step(flat, rand((5, 4), gen, -1.0, 2.0), rand((5, 4), gen), out, "flat.step1")
    record_state(flat, out, "flat.step1")

    write_safetensors("batch_norm.safetensors", out, {"torch": torch.__version__, "eps": EPS})


if __name__ == "__main__":
    main()
