#include "kernels/conv/conv2d_onednn.h"

#include "core/env_switch.h"
#include "core/error.h"

#ifdef MTINET_HAVE_ONEDNN
#include <omp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace mtinet::kernels {

namespace {
EnvSwitch g_onednn_on("MTINET_ONEDNN", true);

// The padding after the last row (column) that makes oneDNN's output size come out as ours: with a stride that does
// not divide the padded extent, the last input rows are never read, and oneDNN wants that said as less end padding.
int64_t end_padding(int64_t in, int64_t out, int64_t k, const Conv2dShape& s) {
  return (out - 1) * s.stride + (k - 1) * s.dilation + 1 - in - s.padding;
}
}  // namespace

#ifndef MTINET_HAVE_ONEDNN

bool onednn_conv_usable(const Conv2dShape&) { return false; }
const char* onednn_version() { return ""; }
void onednn_conv_forward(const float*, const float*, const float*, const Conv2dShape&, float*) {
  MTINET_FAIL("this build of mtinet has no oneDNN");
}
void onednn_conv_backward_input(const float*, const float*, const Conv2dShape&, float*) {
  MTINET_FAIL("this build of mtinet has no oneDNN");
}
void onednn_conv_backward_weight(const float*, const float*, const Conv2dShape&, float*) {
  MTINET_FAIL("this build of mtinet has no oneDNN");
}

#else

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

enum class Direction { forward, backward_input, backward_weight };

// One image's convolution in one direction, planned by oneDNN for one thread. `weights` is the layout the primitive
// reads (or, for the weight gradient, writes) its weights in; `to_primitive` / `from_primitive` reorder between it
// and mtinet's OHWI when the two differ.
struct Plan {
  dnnl::primitive primitive;
  memory::desc image_in, image_out;  // NHWC, one image: the direction's input and output activation
  memory::desc weights, ohwi;
  std::unique_ptr<dnnl::reorder> to_primitive, from_primitive;
  memory::desc scratchpad;
};

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

// The primitive's scratch space: user-managed, one buffer per thread, so one primitive may run on several threads
// at once (a library-managed scratchpad would be shared between them).
memory thread_scratchpad(const memory::desc& d) {
  thread_local std::vector<unsigned char> buffer;
  if (buffer.size() < d.get_size()) buffer.resize(d.get_size());
  return memory(d, cpu_engine(), buffer.data());
}

// Runs while OpenMP's thread count is 1: oneDNN fixes a primitive's work split when it is created, from the thread
// count of that moment, and a one-thread plan then runs on whichever thread calls it.
template <class F>
auto with_one_thread(F make) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  struct Restore {
    int n;
    ~Restore() { omp_set_num_threads(n); }
  } restore{before};
  return make();
}

template <class Primitive, class PrimitiveDesc>
Plan finish_plan(const PrimitiveDesc& pd, memory::desc weights, memory::desc image_in, memory::desc image_out,
                 const memory::desc& ohwi, bool gradient) {
  Plan plan;
  plan.primitive = Primitive(pd);
  plan.image_in = image_in;
  plan.image_out = image_out;
  plan.weights = weights;
  plan.ohwi = ohwi;
  if (weights != ohwi) {
    const dnnl::engine& e = cpu_engine();
    if (gradient) {
      plan.from_primitive = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, weights, e, ohwi));
    } else {
      plan.to_primitive = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, ohwi, e, weights));
    }
  }
  plan.scratchpad = pd.scratchpad_desc();
  return plan;
}

Plan make_plan(const Conv2dShape& s, bool bias, Direction direction) {
  const memory::dims strides{s.stride, s.stride}, dilation{s.dilation - 1, s.dilation - 1};  // oneDNN: 0 = dense
  const memory::dims pad_begin{s.padding, s.padding};
  const memory::dims pad_end{end_padding(s.h, s.ho, s.kh, s), end_padding(s.w, s.wo, s.kw, s)};
  const memory::desc input({1, s.cin, s.h, s.w}, kF32, Tag::nhwc), output({1, s.cout, s.ho, s.wo}, kF32, Tag::nhwc);
  const memory::desc ohwi({s.cout, s.cin, s.kh, s.kw}, kF32, Tag::ohwi);
  const memory::desc any_weights({s.cout, s.cin, s.kh, s.kw}, kF32, Tag::any);
  const memory::desc bias_md = bias ? memory::desc({s.cout}, kF32, Tag::x) : memory::desc();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return with_one_thread([&] {
    using dnnl::algorithm;
    using dnnl::prop_kind;
    // The backward directions need the forward primitive's description as a hint (it picks their layouts).
    dnnl::convolution_forward::primitive_desc forward(
        dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, input,
                                        any_weights, bias_md, output, strides, dilation, pad_begin, pad_end),
        attr, cpu_engine());
    switch (direction) {
      case Direction::forward:
        return finish_plan<dnnl::convolution_forward>(forward, forward.weights_desc(), input, output, ohwi, false);
      case Direction::backward_input: {
        dnnl::convolution_backward_data::primitive_desc pd(
            dnnl::convolution_backward_data::desc(algorithm::convolution_direct, input, any_weights, output, strides,
                                                  dilation, pad_begin, pad_end),
            attr, cpu_engine(), forward);
        return finish_plan<dnnl::convolution_backward_data>(pd, pd.weights_desc(), output, input, ohwi, false);
      }
      case Direction::backward_weight: {
        dnnl::convolution_backward_weights::primitive_desc pd(
            dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, input, any_weights, output,
                                                     strides, dilation, pad_begin, pad_end),
            attr, cpu_engine(), forward);
        return finish_plan<dnnl::convolution_backward_weights>(pd, pd.diff_weights_desc(), input, output, ohwi, true);
      }
    }
    MTINET_FAIL("unknown convolution direction");
  });
}

// Plans by shape and direction, made on first use and kept for the process (MTI-Net has ~100 distinct shapes).
const Plan& plan_for(const Conv2dShape& s, bool bias, Direction direction) {
  using Key = std::tuple<int, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
  static std::mutex mutex;
  static std::map<Key, Plan> plans;
  const Key key{int(direction), bias, s.h, s.w, s.cin, s.cout, s.kh, s.kw, s.stride, s.padding, s.dilation};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(key);
  if (it == plans.end()) {
    try {
      it = plans.emplace(key, make_plan(s, bias, direction)).first;
    } catch (const dnnl::error& e) {
      MTINET_FAIL("oneDNN could not plan the convolution ", s.cin, "->", s.cout, " ", s.kh, "x", s.kw, " stride ",
                  s.stride, " padding ", s.padding, " on ", s.h, "x", s.w, ": ", e.what(), " (MTINET_ONEDNN=0 runs ",
                  "mtinet's own GEMM path)");
    }
  }
  return it->second;
}

// The weights in the primitive's layout: w itself when that is OHWI, else reordered into `buffer`.
const float* weights_for(const Plan& plan, const float* w, std::vector<float>& buffer) {
  if (!plan.to_primitive) return w;
  buffer.resize(plan.weights.get_size() / sizeof(float));
  memory from(plan.ohwi, cpu_engine(), const_cast<float*>(w)), to(plan.weights, cpu_engine(), buffer.data());
  plan.to_primitive->execute(thread_stream(), from, to);
  return buffer.data();
}

// Runs run(image) for every image, images shared out over the OpenMP threads (each image on one thread).
template <class F>
void for_each_image(int64_t n, F run) {
#pragma omp parallel for schedule(static) if (n > 1)
  for (int64_t i = 0; i < n; ++i) run(i);
}

void execute(const Plan& plan, std::unordered_map<int, memory> args) {
  if (plan.scratchpad.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, thread_scratchpad(plan.scratchpad));
  plan.primitive.execute(thread_stream(), args);
}

}  // namespace

bool onednn_conv_usable(const Conv2dShape& s) {
  return g_onednn_on.get() && end_padding(s.h, s.ho, s.kh, s) >= 0 && end_padding(s.w, s.wo, s.kw, s) >= 0;
}

const char* onednn_version() {
  static const std::string version = [] {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return version.c_str();
}

void onednn_conv_forward(const float* x, const float* w, const float* bias, const Conv2dShape& s, float* y) {
  const Plan& plan = plan_for(s, bias != nullptr, Direction::forward);
  std::vector<float> reordered;
  float* weights = const_cast<float*>(weights_for(plan, w, reordered));
  const memory::desc bias_md({s.cout}, kF32, Tag::x);
  const int64_t in_size = s.h * s.w * s.cin, out_size = s.ho * s.wo * s.cout;
  for_each_image(s.n, [&](int64_t i) {
    const dnnl::engine& e = cpu_engine();
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(plan.image_in, e, const_cast<float*>(x) + i * in_size)},
                                         {DNNL_ARG_WEIGHTS, memory(plan.weights, e, weights)},
                                         {DNNL_ARG_DST, memory(plan.image_out, e, y + i * out_size)}};
    if (bias) args.emplace(DNNL_ARG_BIAS, memory(bias_md, e, const_cast<float*>(bias)));
    execute(plan, std::move(args));
  });
}

void onednn_conv_backward_input(const float* gy, const float* w, const Conv2dShape& s, float* gx) {
  const Plan& plan = plan_for(s, false, Direction::backward_input);
  std::vector<float> reordered;
  float* weights = const_cast<float*>(weights_for(plan, w, reordered));
  const int64_t in_size = s.h * s.w * s.cin, out_size = s.ho * s.wo * s.cout;
  for_each_image(s.n, [&](int64_t i) {
    const dnnl::engine& e = cpu_engine();
    execute(plan, {{DNNL_ARG_DIFF_DST, memory(plan.image_in, e, const_cast<float*>(gy) + i * out_size)},
                   {DNNL_ARG_WEIGHTS, memory(plan.weights, e, weights)},
                   {DNNL_ARG_DIFF_SRC, memory(plan.image_out, e, gx + i * in_size)}});
  });
}

void onednn_conv_backward_weight(const float* gy, const float* x, const Conv2dShape& s, float* gw) {
  const Plan& plan = plan_for(s, false, Direction::backward_weight);
  // One weight gradient per image, in the primitive's layout, then added in image order: the same sum whichever
  // threads computed the parts.
  const int64_t part = int64_t(plan.weights.get_size() / sizeof(float));
  std::vector<float> parts(size_t(part * s.n));
  const int64_t in_size = s.h * s.w * s.cin, out_size = s.ho * s.wo * s.cout;
  for_each_image(s.n, [&](int64_t i) {
    const dnnl::engine& e = cpu_engine();
    execute(plan, {{DNNL_ARG_SRC, memory(plan.image_in, e, const_cast<float*>(x) + i * in_size)},
                   {DNNL_ARG_DIFF_DST, memory(plan.image_out, e, const_cast<float*>(gy) + i * out_size)},
                   {DNNL_ARG_DIFF_WEIGHTS, memory(plan.weights, e, parts.data() + i * part)}});
  });
  float* sum = parts.data();
#pragma omp parallel for schedule(static) if (part * s.n > 65536)
  for (int64_t j = 0; j < part; ++j) {
    float acc = sum[j];
    for (int64_t i = 1; i < s.n; ++i) acc += sum[i * part + j];
    sum[j] = acc;
  }
  if (plan.from_primitive) {
    memory from(plan.weights, cpu_engine(), sum), to(plan.ohwi, cpu_engine(), gw);
    plan.from_primitive->execute(thread_stream(), from, to);
  } else {
    std::copy_n(sum, part, gw);
  }
}

#endif  // MTINET_HAVE_ONEDNN

}  // namespace mtinet::kernels
