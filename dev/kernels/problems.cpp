#include "dev/kernels/problems.h"

#include "dev/kernels/gpu.h"

namespace devk {

std::string ConvProblem::str() const {
  return std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(cin) + " " +
         std::to_string(kh) + "x" + std::to_string(kw) + "/" + std::to_string(stride) + " -> " + std::to_string(cout);
}

std::string BnProblem::str() const {
  return std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

ConvProblem make_conv(int n, int h, int w, int cin, int cout, int k, int stride) {
  ConvProblem p;
  p.n = n; p.h = h; p.w = w; p.cin = cin;
  p.cout = cout; p.kh = k; p.kw = k;
  p.stride = stride;
  p.pad = k / 2;  // "same" padding, as every convolution in HRNet and MTI-Net
  p.ho = (h + 2 * p.pad - k) / stride + 1;
  p.wo = (w + 2 * p.pad - k) / stride + 1;
  return p;
}

mtinet::kernels::Conv2dShape mtinet_shape(const ConvProblem& p) {
  mtinet::kernels::Conv2dShape s;
  s.n = p.n; s.h = p.h; s.w = p.w; s.cin = p.cin;
  s.cout = p.cout; s.kh = p.kh; s.kw = p.kw;
  s.ho = p.ho; s.wo = p.wo; s.stride = p.stride; s.padding = p.pad; s.dilation = 1;
  return s;
}

BnProblem make_bn(int n, int h, int w, int c) {
  BnProblem p;
  p.n = n; p.h = h; p.w = w; p.c = c;
  return p;
}

std::vector<ConvProblem> conv_problems(bool small) {
  const int n = small ? 1 : 8, d = small ? 2 : 1;  // small: batch 1, half the height and width
  return {
      make_conv(n, 120 / d, 160 / d, 18, 18, 3),     // HRNet branch 1 (1/4 scale) basic-block conv
      make_conv(n, 60 / d, 80 / d, 36, 36, 3),       // branch 2 (1/8)
      make_conv(n, 30 / d, 40 / d, 72, 72, 3),       // branch 3 (1/16)
      make_conv(n, 120 / d, 160 / d, 64, 64, 3),     // stem / layer1 width at 1/4 scale
      make_conv(n, 120 / d, 160 / d, 270, 270, 1),   // head: the 4 branches concatenated (18+36+72+144), 1x1
  };
}

std::vector<BnProblem> bn_problems(bool small) {
  const int n = small ? 1 : 8, d = small ? 2 : 1;
  return {
      make_bn(n, 120 / d, 160 / d, 18), make_bn(n, 60 / d, 80 / d, 36),  make_bn(n, 30 / d, 40 / d, 72),
      make_bn(n, 15 / d, 20 / d, 144),  make_bn(n, 120 / d, 160 / d, 64), make_bn(n, 120 / d, 160 / d, 270),
  };
}

}  // namespace devk
