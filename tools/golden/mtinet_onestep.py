"""One SGD training step of MTI-Net (NYUD) in PyTorch, the golden for tests/test_onestep.cpp.

From the closed-form weights of mtinet_model.py (formula_tensor, which the C++ test evaluates identically, so no
weights are committed) and a closed-form batch (image 2x3x64x96 from formula_input; semseg labels with ~9% 255;
depth labels with ~1/8 zeros), this runs a training-mode forward, the MTI-Net loss as the reference computes it
  sum_t w_t L_t(final_t) + sum over the 4 scales s and auxiliary tasks a of w_a L_a(upsample(P_s,a) to label size)
(NYUD: cross-entropy ignore 255 and masked L1, both weights 1), backward, and one torch.optim.SGD step (lr 0.1,
momentum 0, no weight decay); BatchNorm updates its running statistics in the forward. It does this in float64
and, from the same weights cast to float32, in float32 (several equally valid ways: see F32_REALIZATIONS).

Written to tests/fixtures/mtinet_onestep_nyud.safetensors (every floating state_dict entry, in state_dict order):
  loss, loss.semseg, loss.depth      float64 losses (per task: final + deep supervision)
  loss_f32                           PyTorch's float32 loss (oneDNN, batch as given)
  delta_samples                      samples of (updated - initial) in float64, flat[::max(1, numel // 12)] of each
                                     entry in PyTorch layout, concatenated in state_dict order (one tensor keeps the
                                     header small); for parameters -lr*grad, for BN running stats the momentum update
  delta_norm                         ||updated - initial||_2 per entry, float64
  initial_norm                       ||initial||_2 per entry (tells rounding-level deltas from real ones)
  f32_weight_spread, f32_grad_spread PyTorch's own ||x_f32 - x_f64|| / ||x_f64|| per entry of the updated weights
                                     and of the gradients (-1 for buffers), the maximum over F32_REALIZATIONS
  f32_loss_spread, f32_global_weight_spread, f32_global_grad_spread
                                     the same over the loss and over all entries at once (gradients: those with a
                                     real update), maximum over F32_REALIZATIONS
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import seeded, write_safetensors  # noqa: E402
from losses import masked_l1_loss  # noqa: E402
from mtinet_model import build, check_manifest, formula_input, formula_tensor, formula_values, sample  # noqa: E402

INPUT_SHAPE = [2, 3, 64, 96]
SEMSEG_SALT, DEPTH_SALT = 424242, 31337
CLASSES = 40
LR = 0.1
SAMPLE_TARGET = 12
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


# Equally valid float32 executions of the same step: PyTorch's oneDNN or native convolutions, on the batch as given
# or with the image rounded differently by about one f32 ulp (relative noise 6e-8 from the seed). The step is
# ill-conditioned -- training-mode BatchNorm over a dozen pixels per channel at the coarse scales, ReLU and L1 kinks --
# so their gradients already differ from float64 by 0.3% to 2% (median over tensors) and from each other per tensor
# by up to ~8x; the fixture keeps the per-entry envelope (maximum) over them as PyTorch's own f32 spread.
F32_REALIZATIONS = [("onednn", True, None), ("native", False, None), ("onednn_ulp1", True, 1),
                    ("onednn_ulp2", True, 2), ("native_ulp3", False, 3)]


def one_step(initial, dtype, onednn=True, ulp_seed=None):
    """Loads `initial` (float64 state dict) cast to dtype, takes one SGD step; returns (loss, per-task, state after
    the step, gradients by parameter name)."""
    torch.backends.mkldnn.enabled = onednn
    model = build("mtinet", "nyud")
    check_manifest(model, "nyud")
    model = model.to(dtype)
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in initial.items()})
    model.train()
    image, semseg, depth = formula_batch()
    if ulp_seed is not None:
        noise = torch.randn(image.shape, generator=seeded(ulp_seed), dtype=torch.float64)
        image = image * (1.0 + 6e-8 * noise)
    labels = {"semseg": semseg, "depth": depth.to(dtype)}
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.0, weight_decay=0.0)
    opt.zero_grad()
    out, preds = model(image.to(dtype))
    loss, per_task = mtinet_loss(out, preds, labels)
    loss.backward()
    opt.step()
    torch.backends.mkldnn.enabled = True
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    return loss.detach(), {t: l.detach() for t, l in per_task.items()}, state, grads


def rel(a, b):
    return float((a.double() - b).norm()) / max(float(b.norm()), 1e-300)


def global_rel(a, b, names):
    num = sum(float((a[k].double() - b[k]).norm()) ** 2 for k in names)
    return math.sqrt(num / sum(float(b[k].norm()) ** 2 for k in names))


def main():
    torch.set_grad_enabled(True)
    template = build("mtinet", "nyud").double().state_dict()
    initial = {k: formula_tensor(k, list(v.shape), salt) for salt, (k, v) in enumerate(template.items())}
    floating = [k for k, v in initial.items() if v.is_floating_point()]

    loss64, tasks64, state64, grads64 = one_step(initial, torch.float64)
    res = {"loss": loss64.reshape(()), "sample_target": torch.tensor(SAMPLE_TARGET, dtype=torch.int64)}
    for t, l in tasks64.items():
        res[f"loss.{t}"] = l.reshape(())
    norms, initial_norms, samples = [], [], []
    for name in floating:
        d64 = state64[name] - initial[name]
        samples.append(sample(d64, SAMPLE_TARGET))
        norms.append(float(d64.norm()))
        initial_norms.append(float(initial[name].norm()))
    for name in initial:
        if not initial[name].is_floating_point():
            assert int(state64[name]) == 1, name  # num_batches_tracked
    res["delta_samples"] = torch.cat(samples)
    res["delta_norm"] = torch.tensor(norms, dtype=torch.float64)
    res["initial_norm"] = torch.tensor(initial_norms, dtype=torch.float64)
    real = [n > 1e-9 * i for n, i in zip(norms, initial_norms)]  # not a rounding-level update
    real_params = [k for k, r in zip(floating, real) if r and k in grads64]

    print(f"loss f64 {float(loss64):.17g}")
    weight_runs, grad_runs, loss_spreads, global_w, global_g = [], [], [], [], []
    for tag, onednn, seed in F32_REALIZATIONS:
        loss32, _, state32, grads32 = one_step(initial, torch.float32, onednn, seed)
        if tag == "onednn":
            res["loss_f32"] = loss32.double().reshape(())
        w = torch.tensor([rel(state32[k], state64[k]) for k in floating], dtype=torch.float64)
        g = torch.tensor([rel(grads32[k], grads64[k]) if k in grads64 else -1.0 for k in floating],
                         dtype=torch.float64)
        weight_runs.append(w)
        grad_runs.append(g)
        loss_spreads.append(abs(float(loss32) - float(loss64)) / abs(float(loss64)))
        global_w.append(global_rel(state32, state64, floating))
        global_g.append(global_rel(grads32, grads64, real_params))
        mask = torch.tensor(real)
        gm = torch.tensor([r and k in grads64 for k, r in zip(floating, real)])
        print(f"f32 {tag:12s} loss rel {loss_spreads[-1]:.2e}; spread of weights median {w[mask].median():.2e} "
              f"max {w[mask].max():.2e}, of gradients median {g[gm].median():.2e} max {g[gm].max():.2e}; "
              f"global weights {global_w[-1]:.2e} gradients {global_g[-1]:.2e}")
    W, G = torch.stack(weight_runs), torch.stack(grad_runs)
    res["f32_weight_spread"] = W.max(0).values
    res["f32_grad_spread"] = G.max(0).values
    res["f32_loss_spread"] = torch.tensor(max(loss_spreads), dtype=torch.float64)
    res["f32_global_weight_spread"] = torch.tensor(max(global_w), dtype=torch.float64)
    res["f32_global_grad_spread"] = torch.tensor(max(global_g), dtype=torch.float64)
    # How far one realization strays from the envelope of the others: calibrates the C++ test's per-entry factor.
    gm = torch.tensor([r and k in grads64 for k, r in zip(floating, real)])
    for i, (tag, _, _) in enumerate(F32_REALIZATIONS):
        others_w = torch.cat([W[:i], W[i + 1:]]).max(0).values
        others_g = torch.cat([G[:i], G[i + 1:]]).max(0).values
        print(f"leave-one-out {tag:12s}: max ratio to the others' envelope: weights "
              f"{(W[i][torch.tensor(real)] / others_w[torch.tensor(real)]).max():.2f}, gradients "
              f"{(G[i][gm] / others_g[gm]).max():.2f}; median ratio to the envelope's median: weights "
              f"{W[i][torch.tensor(real)].median() / others_w[torch.tensor(real)].median():.2f}, gradients "
              f"{G[i][gm].median() / others_g[gm].median():.2f}")
    meta = {"model": "mtinet", "task_set": "nyud", "input_shape": ",".join(map(str, INPUT_SHAPE)),
            "semseg_salt": SEMSEG_SALT, "depth_salt": DEPTH_SALT, "lr": LR, "optimizer": "SGD momentum 0 wd 0",
            "sample": "flat[::max(1, numel // sample_target)] in PyTorch layout"}
    write_safetensors("mtinet_onestep_nyud.safetensors", res, meta)


if __name__ == "__main__":
    main()
