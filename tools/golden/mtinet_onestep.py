"""One SGD training step of MTI-Net (NYUD) in PyTorch, the golden for tests/test_onestep.cpp.

From the closed-form weights of mtinet_model.py (formula_tensor, which the C++ test evaluates identically, so no
weights are committed) and a closed-form batch (image 2x3x64x96 from formula_input; semseg labels with ~9% 255;
depth labels with ~1/8 zeros), this runs a training-mode forward, the MTI-Net loss as the reference computes it
  sum_t w_t L_t(final_t) + sum over the 4 scales s and auxiliary tasks a of w_a L_a(upsample(P_s,a) to label size)
(NYUD: cross-entropy ignore 255 and masked L1, both weights 1), backward, and one torch.optim.SGD step (lr 0.1,
momentum 0, no weight decay); BatchNorm updates its running statistics in the forward. It does this in float64
and, from the same weights cast to float32, in float32.

Written to tests/fixtures/mtinet_onestep_nyud.safetensors (every floating state_dict entry, in state_dict order):
  loss, loss.semseg, loss.depth      float64 losses (per task: final + deep supervision)
  loss_f32                           PyTorch's float32 loss
  delta.<entry>                      sample of (updated - initial) in float64, flat[::max(1, numel // 32)], PyTorch
                                     layout; for parameters -lr*grad, for BN running stats the momentum update
  delta_norm                         ||updated - initial||_2 per entry, float64
  f32_weight_spread                  PyTorch's own ||updated_f32 - updated_f64|| / ||updated_f64|| per entry
  f32_grad_spread                    PyTorch's own ||grad_f32 - grad_f64|| / ||grad_f64|| per entry (-1 for buffers)
  f32_delta_spread                   PyTorch's own ||delta_f32 - delta_f64|| / ||delta_f64|| per entry (for the
                                     report: dominated by the f32 rounding of the updated weights)
  initial_norm                       ||initial||_2 per entry (tells rounding-level deltas from real ones)
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import write_safetensors  # noqa: E402
from losses import masked_l1_loss  # noqa: E402
from mtinet_model import build, check_manifest, formula_input, formula_tensor, formula_values, sample  # noqa: E402

INPUT_SHAPE = [2, 3, 64, 96]
SEMSEG_SALT, DEPTH_SALT = 424242, 31337
CLASSES = 40
LR = 0.1
SAMPLE_TARGET = 32
TASK_WEIGHTS = {"semseg": 1.0, "depth": 1.0}  # model/tasks.h, NYUD


def formula_batch():
    """Labels from the same exact formula the C++ test evaluates: semseg = floor(44 u), classes >= 40 -> 255 (ignore);
    depth = 0 (invalid) where u < 1/8, else 0.5 + 4 u (exact dyadic values)."""
    n, _, h, w = INPUT_SHAPE
    u = formula_values(n * h * w, SEMSEG_SALT)
    semseg = torch.floor(u * 44.0).to(torch.int64)
    semseg[semseg >= CLASSES] = 255
    v = formula_values(n * h * w, DEPTH_SALT)
    depth = torch.where(v < 0.125, torch.zeros_like(v), 0.5 + 4.0 * v)
    return formula_input(INPUT_SHAPE), semseg.reshape(n, h, w), depth.reshape(n, 1, h, w)


def task_loss(task, pred, label):
    if task == "semseg":
        return F.cross_entropy(pred, label, ignore_index=255, reduction="mean")
    return masked_l1_loss(pred, label)


def mtinet_loss(out, preds, labels):
    """Returns the weighted total and the unweighted per-task sums (final + every deep-supervision scale)."""
    per_task = {}
    for t, y in out.items():
        per_task[t] = task_loss(t, y, labels[t])
    for scale in preds:
        for a, p in scale.items():
            up = F.interpolate(p, size=labels[a].shape[-2:], mode="bilinear", align_corners=False)
            per_task[a] = per_task[a] + task_loss(a, up, labels[a])
    total = sum(TASK_WEIGHTS[t] * l for t, l in per_task.items())
    return total, per_task


def one_step(initial, dtype):
    """Loads `initial` (float64 state dict) cast to dtype, takes one SGD step; returns (loss, per-task, state after
    the step, gradients by parameter name)."""
    model = build("mtinet", "nyud")
    check_manifest(model, "nyud")
    model = model.to(dtype)
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in initial.items()})
    model.train()
    image, semseg, depth = formula_batch()
    labels = {"semseg": semseg, "depth": depth.to(dtype)}
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.0, weight_decay=0.0)
    opt.zero_grad()
    out, preds = model(image.to(dtype))
    loss, per_task = mtinet_loss(out, preds, labels)
    loss.backward()
    opt.step()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    return loss.detach(), {t: l.detach() for t, l in per_task.items()}, state, grads


def main():
    torch.set_grad_enabled(True)
    template = build("mtinet", "nyud").double().state_dict()
    initial = {k: formula_tensor(k, list(v.shape), salt) for salt, (k, v) in enumerate(template.items())}

    loss64, tasks64, state64, grads64 = one_step(initial, torch.float64)
    loss32, _, state32, grads32 = one_step(initial, torch.float32)

    res = {"loss": loss64.reshape(()), "loss_f32": loss32.double().reshape(()),
           "sample_target": torch.tensor(SAMPLE_TARGET, dtype=torch.int64)}
    for t, l in tasks64.items():
        res[f"loss.{t}"] = l.reshape(())
    def rel(a, b):
        return float((a.double() - b).norm()) / max(float(b.norm()), 1e-300)

    norms, initial_norms, delta_spreads, weight_spreads, grad_spreads = [], [], [], [], []
    for name, w0 in initial.items():
        if not w0.is_floating_point():
            assert int(state64[name]) == 1 and int(state32[name]) == 1, name  # num_batches_tracked
            continue
        d64 = state64[name] - w0
        d32 = state32[name].double() - w0.float().double()
        res[f"delta.{name}"] = sample(d64, SAMPLE_TARGET)
        norms.append(float(d64.norm()))
        initial_norms.append(float(w0.norm()))
        delta_spreads.append(rel(d32, d64))
        weight_spreads.append(rel(state32[name], state64[name]))
        grad_spreads.append(rel(grads32[name], grads64[name]) if name in grads64 else -1.0)
    res["delta_norm"] = torch.tensor(norms, dtype=torch.float64)
    res["initial_norm"] = torch.tensor(initial_norms, dtype=torch.float64)
    res["f32_delta_spread"] = torch.tensor(delta_spreads, dtype=torch.float64)
    res["f32_weight_spread"] = torch.tensor(weight_spreads, dtype=torch.float64)
    res["f32_grad_spread"] = torch.tensor(grad_spreads, dtype=torch.float64)

    def summary(what, spreads):
        real = sorted(s for s, n, i in zip(spreads, norms, initial_norms) if n > 1e-9 * i and s >= 0)
        print(f"PyTorch f32-vs-f64 spread of the {what} ({len(real)} entries with a real update): "
              f"median {real[len(real) // 2]:.2e}, max {real[-1]:.2e}")
    print(f"loss f64 {float(loss64):.17g}  f32 {float(loss32):.9g}  "
          f"(rel {abs(float(loss32) - float(loss64)) / abs(float(loss64)):.2e})")
    summary("updated weights", weight_spreads)
    summary("gradients", grad_spreads)
    summary("updates (updated - initial)", delta_spreads)
    meta = {"model": "mtinet", "task_set": "nyud", "input_shape": ",".join(map(str, INPUT_SHAPE)),
            "semseg_salt": SEMSEG_SALT, "depth_salt": DEPTH_SALT, "lr": LR, "optimizer": "SGD momentum 0 wd 0",
            "sample": "flat[::max(1, numel // sample_target)] in PyTorch layout"}
    write_safetensors("mtinet_onestep_nyud.safetensors", res, meta)


if __name__ == "__main__":
    main()
