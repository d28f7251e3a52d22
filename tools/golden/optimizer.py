"""Golden values for the optimisers: two steps of torch.optim SGD/Adam/AdamW in float64 on a 12-element parameter.

Writes tests/fixtures/optimizer.safetensors: p0, g1, g2 and, per case, the parameter after step 1 and step 2.
"""
import torch

from common import rand, seeded, write_safetensors

g = seeded(7)
p0 = rand((12,), g)
g1 = rand((12,), g)
g2 = rand((12,), g, -2.0, 2.0)

CASES = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.0, weight_decay=0.0),
    "sgd_momentum_wd": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=1e-2),
    "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam_l2": lambda p: torch.optim.Adam([p], lr=1e-2, weight_decay=1e-1),
    "adamw": lambda p: torch.optim.AdamW([p], lr=1e-2, weight_decay=1e-1),
}

out = {"p0": p0, "g1": g1, "g2": g2}
for name, make in CASES.items():
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    for step, grad in ((1, g1), (2, g2)):
        p.grad = grad.clone()
        opt.step()
        out[f"{name}.step{step}"] = p.detach().clone()
write_safetensors("optimizer.safetensors", out)
