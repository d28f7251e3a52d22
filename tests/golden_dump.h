// Writes what tools/golden/mtinet_model.py's dump mode writes, from our side, so that the two files can be compared
// tensor by tensor (`mtinet_model.py --weights W --input X --out T --compare OURS`): a train-mode forward and
// backward in the model's dtype, with the loss sum over every final and deep-supervision prediction y of mean(y*y).
// Keys: out.<task>, deep_supervision.<s>.<task> (NCHW), loss, grad.input (NCHW), grad.<parameter> (PyTorch layout).
// Test tooling: tests/test_models.cpp writes such a dump.
#pragma once
#include <string>

#include "model/network.h"

namespace mtinet {

// input_nchw {N,3,H,W} in the model's dtype. Leaves the model in training mode with gradients accumulated.
void write_golden_dump(MultiTaskNetwork& model, const Tensor& input_nchw, const std::string& path);

}  // namespace mtinet
