"""PyTorch reference timing of one NYUD MTI-Net training step, to set beside `mtinet bench train`.

Measures, per mode, the median wall time of whole training steps (zero_grad, forward, losses, backward, Adam step)
of MTI-Net (HRNetV2-W18-small-v2, task set nyud) on one synthetic batch, and the peak memory. It mirrors
`mtinet bench train --device cuda --batch 8 --size 480x640` with train/configs/nyud_mtinet.json:
  - the network is tools/golden/mtinet_model.py's PyTorch re-implementation (same layers, same parameter names);
  - the losses are train/task_losses.cpp's: per main task the loss of the final prediction plus, for every
    deep-supervision scale, the same loss of that prediction bilinearly upsampled (align_corners=False) to the
    label size; semseg = cross entropy (ignore 255), depth = L1 over pixels whose label is not 0, both means over
    the valid pixels; total = sum of loss_weight (1.0 and 1.0, model/tasks.cpp) times each task's sum;
  - Adam, lr 1e-4, weight_decay 1e-4 added to the gradient (not AdamW), betas (0.9, 0.999), eps 1e-8;
  - the batch: normal image, labels with about a tenth ignored/invalid (data/synthetic_batch.cpp);
  - the device is synchronised before each clock read; warm-up steps are untimed; the median is reported;
  - peak memory: the CUDA caching allocator's high-water mark since the reset before warm-up (ours: our
    allocator's); on the CPU the process's peak RSS, as ours.
With --eval it times evaluation passes instead (eval mode, forward only under no_grad), as `mtinet bench train
--eval`.
Modes: eager_fp32 (NCHW f32 with TF32 convs/matmuls, as our default MTINET_TF32=1), bf16_cl (bf16 autocast,
channels_last), compile (bf16_cl with torch.compile on the model). Each mode builds a fresh model from seed 0.
Output: a header line, then per mode one line
  torch_bench mode=M ms_per_step=X images_per_s=X peak_mib=X warmup_s=X
or  torch_bench mode=M status=failed reason="..."
Exit status 1 if eager_fp32 or bf16_cl failed (compile failing is reported but tolerated).
"""
import argparse
import gc
import math
import os
import resource
import statistics
import sys
import time
import warnings

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
from mtinet_model import build  # noqa: E402

TASK_WEIGHTS = {"semseg": 1.0, "depth": 1.0}  # nyud main tasks = deep-supervised tasks; weights of model/tasks.cpp
CLASSES, IGNORE_INDEX, INVALID_FRACTION = 40, 255, 0.1
MODES = ("eager_fp32", "bf16_cl", "compile")


def task_loss(task, pred, label):
    # In f32 even under bf16 autocast: ours computes losses in f32 too, and a bf16 mean over ~2.5M pixels is poor.
    pred = pred.float()
    if task == "semseg":
        return F.cross_entropy(pred, label, ignore_index=IGNORE_INDEX)
    # Masked by multiplication, not boolean indexing, so there is no host sync or data-dependent shape; with no
    # valid pixel the loss is 0, as ours (mean_or_zero).
    valid = (label != 0).float()
    return ((pred - label).abs() * valid).sum() / valid.sum().clamp_min(1.0)


def total_loss(out, deep_supervision, labels):
    total = 0.0
    for task, weight in TASK_WEIGHTS.items():
        label = labels[task]
        per_task = task_loss(task, out[task], label)
        for scale in deep_supervision:
            up = F.interpolate(scale[task].float(), size=label.shape[-2:], mode="bilinear", align_corners=False)
            per_task = per_task + task_loss(task, up, label)
        total = total + weight * per_task
    return total


def synthetic_batch(n, h, w, device):
    g = torch.Generator().manual_seed(1)  # drawn on the host, copied once, as ours
    image = torch.randn(n, 3, h, w, generator=g)
    semseg = torch.randint(0, CLASSES, (n, h, w), generator=g)
    semseg[torch.rand(n, h, w, generator=g) < INVALID_FRACTION] = IGNORE_INDEX
    depth = 0.5 + 9.5 * torch.rand(n, 1, h, w, generator=g)
    depth[torch.rand(n, 1, h, w, generator=g) < INVALID_FRACTION] = 0.0
    return image.to(device), {"semseg": semseg.to(device), "depth": depth.to(device)}


def enable_tf32():
    """Our CUDA convs and GEMMs use TF32 by default. The legacy flags are used on purpose: PyTorch >= 2.9 prefers
    fp32_precision, but setting that makes Inductor fail on a 'mix of legacy and new APIs' (pytorch#166387); the
    legacy flags still work there, with a deprecation warning that is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cuda.matmul.allow_tf32 = True
        return torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_mib(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def run_mode(mode, args, device, image, labels):
    """Returns (the machine-readable fields, the last loss) of a finished mode, or raises with the reason."""
    torch.manual_seed(0)  # the same initial weights in every mode
    model = build("mtinet", "nyud").to(device).train()
    use_bf16 = mode != "eager_fp32"
    if use_bf16:
        model = model.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    net = torch.compile(model) if mode == "compile" else model

    def eval_pass():
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out, _ = net(image)
        return next(iter(out.values()))

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out, deep_supervision = net(image)
            loss = total_loss(out, deep_supervision, labels)
        loss.backward()
        optimizer.step()
        return loss.detach()

    if args.eval:
        model.eval()
    step = eval_pass if args.eval else train_step
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for i in range(args.warmup):
        step()
        sync(device)
        elapsed = time.perf_counter() - t0
        # The first compiled step can take minutes; it cannot be interrupted, so the limit is checked after it.
        if mode == "compile" and elapsed > args.compile_timeout:
            raise TimeoutError(f"warm-up took {elapsed:.1f} s after {i + 1} of {args.warmup} steps, over "
                               f"--compile-timeout {args.compile_timeout:g} s")
    warmup_s = time.perf_counter() - t0
    times = []
    for _ in range(args.steps):
        sync(device)
        t = time.perf_counter()
        loss = step()
        sync(device)
        times.append(time.perf_counter() - t)
    loss = float(loss.float().mean())
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss is not finite ({loss})")
    ms = statistics.median(times) * 1e3
    return (f"ms_per_step={ms:.1f} images_per_s={args.batch / (ms * 1e-3):.1f} peak_mib={peak_mib(device):.1f} "
            f"warmup_s={warmup_s:.1f}"), loss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", default="480x640", help="HxW")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated, of " + ", ".join(MODES))
    ap.add_argument("--eval", action="store_true",
                    help="time evaluation passes instead (eval mode, forward only under no_grad)")
    ap.add_argument("--compile-timeout", type=float, default=240.0,
                    help="seconds; abandon the compile mode if its warm-up takes longer")
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in modes) or args.batch < 1 or args.steps < 1 or args.warmup < 0:
        ap.error(f"--modes must be of {', '.join(MODES)}; --batch, --steps >= 1, --warmup >= 0")
    device = torch.device(args.device)
    tf32 = ("on" if enable_tf32() else "off") if device.type == "cuda" else "n/a (cpu)"
    torch.backends.cudnn.benchmark = True  # ours picks each conv's algorithm by cudnnFind on first use
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"PyTorch training benchmark: torch {torch.__version__}, device {name}, cudnn "
          f"{torch.backends.cudnn.version()}, TF32 {tf32} (f32 mode), mtinet nyud, "
          f"batch {args.batch} at {h}x{w}, {args.warmup} warm-up + {args.steps} timed steps", flush=True)
    image, labels = synthetic_batch(args.batch, h, w, device)
    failed = False
    for mode in modes:
        gc.collect()  # free the previous mode's model before measuring this one's peak
        if device.type == "cuda":
            torch.cuda.empty_cache()
        try:
            fields, loss = run_mode(mode, args, device, image, labels)
            print(f"torch_bench mode={mode} {fields}", flush=True)
            print(f"  ({mode}: last loss {loss:.4f})", flush=True)
        except Exception as e:  # noqa: BLE001 - any failure of a mode is reported, the others still run
            reason = " ".join(f"{type(e).__name__}: {e}".split())[:300].replace('"', "'")
            print(f'torch_bench mode={mode} status=failed reason="{reason}"', flush=True)
            failed = failed or mode != "compile"
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
