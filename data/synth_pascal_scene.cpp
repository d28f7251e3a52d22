#include "data/synth_pascal_scene.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "data/synth_dataset.h"

namespace mtinet::synth {

namespace {

constexpr int kContextLabels[21] = {0,   2,   23,  25,  31,  34,  45,  59,  65,  72, 98,
                                    397, 113, 207, 258, 284, 308, 347, 368, 416, 427};
constexpr const char* kVocNames[21] = {"background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus",
                                       "car", "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike",
                                       "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"};
// Background "stuff" (PASCAL-Context ids): above the horizon sky 360, wall 440, building 44, tree 420; below it
// grass 187, floor 158, road 324, ground 189, water 445.
constexpr int kUpper[] = {360, 440, 44, 420};
constexpr int kLower[] = {187, 158, 324, 189, 445};

struct Rgb {
  double r, g, b;
};

// A class's colour: fixed per Context id, so it can be learned.
Rgb class_colour(int context_label) {
  Rng rng(0xC0102ull * 7919ull + uint64_t(context_label));
  return {rng.uniform(0.15, 0.9), rng.uniform(0.15, 0.9), rng.uniform(0.15, 0.9)};
}

// What a painted pixel is; `instance` indexes the scene's objects (-1 background) and `part` the object's parts.
struct Canvas {
  int h, w;
  std::vector<int> instance, part;
  PascalSynthSample out;
  Rng* noise;

  void paint(int y, int x, int inst, int part_index, int voc, int context, Rgb colour, double shade,
             double nx, double ny, double nz) {
    size_t p = size_t(y) * size_t(w) + size_t(x);
    instance[p] = inst;
    part[p] = part_index;
    out.semseg[p] = uint8_t(voc);
    out.context[p] = uint16_t(context);
    out.saliency[p] = inst >= 0 ? 255 : 0;
    double n[3] = {nx, ny, nz};
    for (int c = 0; c < 3; ++c) out.normals[3 * p + size_t(c)] = uint8_t(std::lround((n[c] + 1) / 2 * 255));
    double rgb[3] = {colour.r, colour.g, colour.b};
    for (int c = 0; c < 3; ++c) {
      double v = rgb[c] * shade + 0.03 * noise->normal();
      out.rgb[3 * p + size_t(c)] = uint8_t(std::clamp(std::lround(v * 255), 0L, 255L));
    }
  }
};

// Shading and normal of a rounded shape at normalised offset (u, v) from its axis, |(u, v)| <= 1.
void dome(double u, double v, double& nx, double& ny, double& nz, double& shade) {
  double r2 = std::min(1.0, u * u + v * v);
  nx = u;
  ny = v;
  nz = std::sqrt(1 - r2);
  shade = 0.55 + 0.45 * std::max(0.0, -0.4 * nx - 0.5 * ny + 0.77 * nz);  // lit from the upper left
}

// A capsule (the segment a-b thickened by radius) or, with a == b, a disc.
void draw_capsule(Canvas& cv, double ax, double ay, double bx, double by, double radius, int inst, int part_index,
                  int voc, int context, Rgb colour) {
  int x0 = std::max(0, int(std::floor(std::min(ax, bx) - radius)));
  int x1 = std::min(cv.w - 1, int(std::ceil(std::max(ax, bx) + radius)));
  int y0 = std::max(0, int(std::floor(std::min(ay, by) - radius)));
  int y1 = std::min(cv.h - 1, int(std::ceil(std::max(ay, by) + radius)));
  double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      double px = x + 0.5, py = y + 0.5;
      double t = len2 > 0 ? std::clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0) : 0.0;
      double ox = px - (ax + t * dx), oy = py - (ay + t * dy);
      if (ox * ox + oy * oy > radius * radius) continue;
      double nx, ny, nz, shade;
      dome(ox / radius, oy / radius, nx, ny, nz, shade);
      cv.paint(y, x, inst, part_index, voc, context, colour, shade, nx, ny, nz);
    }
}

void draw_box(Canvas& cv, double cx, double cy, double hw, double hh, int inst, int voc, Rgb colour) {
  int context = kContextLabels[voc];
  for (int y = std::max(0, int(cy - hh)); y <= std::min(cv.h - 1, int(cy + hh)); ++y)
    for (int x = std::max(0, int(cx - hw)); x <= std::min(cv.w - 1, int(cx + hw)); ++x) {
      double u = (x + 0.5 - cx) / hw, v = (y + 0.5 - cy) / hh;
      double shade = 0.8 + 0.2 * std::sin(6 * u + 4 * v);  // a flat face with a painted pattern
      cv.paint(y, x, inst, -1, voc, context, colour, shade, 0, 0, 1);
    }
}

void draw_ellipse(Canvas& cv, double cx, double cy, double rx, double ry, int inst, int voc, Rgb colour) {
  int context = kContextLabels[voc];
  for (int y = std::max(0, int(cy - ry)); y <= std::min(cv.h - 1, int(cy + ry)); ++y)
    for (int x = std::max(0, int(cx - rx)); x <= std::min(cv.w - 1, int(cx + rx)); ++x) {
      double u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
      if (u * u + v * v > 1) continue;
      double nx, ny, nz, shade;
      dome(u, v, nx, ny, nz, shade);
      cv.paint(y, x, inst, -1, voc, context, colour, shade, nx, ny, nz);
    }
}

// The body parts of a figure, in drawing order: far limbs first, then torso and head, then near limbs.
struct Limb {
  const char* upper;
  const char* lower;
  const char* end;
};

void draw_person(Canvas& cv, Rng& rng, int inst, std::vector<std::string>& part_names) {
  double size = rng.uniform(0.35, 0.85) * cv.h;  // head to feet
  double cx = rng.uniform(0.1, 0.9) * cv.w, top = rng.uniform(-0.1, 0.5) * cv.h;
  double lean = rng.uniform(-0.25, 0.25);
  Rgb skin{rng.uniform(0.55, 0.95), rng.uniform(0.4, 0.75), rng.uniform(0.3, 0.6)};
  Rgb shirt = class_colour(1000 + int(rng.randint(50)));
  Rgb trousers = class_colour(2000 + int(rng.randint(50)));
  Rgb hair{0.15, 0.1, 0.05}, shoes{0.1, 0.1, 0.12};
  int context = kContextLabels[kVocPerson];
  auto part = [&](const char* name) {
    part_names.push_back(name);
    return int(part_names.size()) - 1;
  };
  double head_r = 0.08 * size;
  double neck_x = cx + lean * 0.1 * size, neck_y = top + 2 * head_r;
  double hip_x = cx - lean * 0.25 * size, hip_y = neck_y + 0.36 * size;
  double limb_r = 0.035 * size, upper_len = 0.16 * size, lower_len = 0.15 * size;
  // Limbs: shoulder/hip offsets to the figure's left (+x: the person faces the camera) and right.
  auto limb = [&](double bx, double by, double angle1, double angle2, double len1, double len2, double r,
                  const Limb& names, Rgb colour, Rgb end_colour, double end_r) {
    double ex = bx + len1 * std::sin(angle1), ey = by + len1 * std::cos(angle1);
    double hx = ex + len2 * std::sin(angle2), hy = ey + len2 * std::cos(angle2);
    draw_capsule(cv, bx, by, ex, ey, r, inst, part(names.upper), kVocPerson, context, colour);
    draw_capsule(cv, ex, ey, hx, hy, r * 0.9, inst, part(names.lower), kVocPerson, context, colour);
    draw_capsule(cv, hx, hy, hx, hy, end_r, inst, part(names.end), kVocPerson, context, end_colour);
  };
  auto arm = [&](double side, const Limb& names) {
    double a1 = side * rng.uniform(0.1, 1.6), a2 = a1 + side * rng.uniform(-0.3, 1.2);
    limb(neck_x + side * 0.11 * size, neck_y + 0.04 * size, a1, a2, upper_len, lower_len, limb_r, names, shirt,
         skin, 1.3 * limb_r);
  };
  auto leg = [&](double side, const Limb& names) {
    double a1 = side * rng.uniform(-0.05, 0.5), a2 = a1 - side * rng.uniform(0.0, 0.5);
    limb(hip_x + side * 0.06 * size, hip_y, a1, a2, 0.22 * size, 0.21 * size, 1.3 * limb_r, names, trousers, shoes,
         1.4 * limb_r);
  };
  bool left_far = rng.uniform() < 0.5;  // which side's limbs are behind the torso
  double far = left_far ? 1 : -1;
  arm(far, far > 0 ? Limb{"luarm", "llarm", "lhand"} : Limb{"ruarm", "rlarm", "rhand"});
  leg(far, far > 0 ? Limb{"luleg", "llleg", "lfoot"} : Limb{"ruleg", "rlleg", "rfoot"});
  draw_capsule(cv, neck_x, neck_y + 0.06 * size, hip_x, hip_y - 0.04 * size, 0.1 * size, inst, part("torso"),
               kVocPerson, context, shirt);
  draw_capsule(cv, neck_x, neck_y - 0.02 * size, neck_x, neck_y + 0.04 * size, 0.03 * size, inst, part("neck"),
               kVocPerson, context, skin);
  draw_capsule(cv, neck_x, neck_y - head_r, neck_x, neck_y - head_r, head_r, inst, part("head"), kVocPerson, context,
               skin);
  draw_capsule(cv, neck_x - 0.3 * head_r, neck_y - 1.7 * head_r, neck_x + 0.3 * head_r, neck_y - 1.7 * head_r,
               0.45 * head_r, inst, part("hair"), kVocPerson, context, hair);
  arm(-far, -far > 0 ? Limb{"luarm", "llarm", "lhand"} : Limb{"ruarm", "rlarm", "rhand"});
  leg(-far, -far > 0 ? Limb{"luleg", "llleg", "lfoot"} : Limb{"ruleg", "rlleg", "rfoot"});
}

}  // namespace

int voc_to_context_label(int voc) {
  MTINET_CHECK(voc >= 0 && voc <= 20, "VOC class ", voc, " is outside 0..20");
  return kContextLabels[voc];
}

const char* voc_class_name(int voc) {
  MTINET_CHECK(voc >= 0 && voc <= 20, "VOC class ", voc, " is outside 0..20");
  return kVocNames[voc];
}

PascalSynthSample synthesize_pascal_sample(uint64_t seed, int64_t index, int height, int width) {
  MTINET_CHECK(height >= 8 && width >= 8, "synth: the image size must be at least 8x8, got ", height, "x", width);
  // The layout and the pixel noise draw from separate streams (as the NYUD generator does).
  Rng rng(sample_seed(seed, index) ^ 0x70617363616cull);
  Rng noise(sample_seed(seed, index) ^ 0x6e6f697365ull);
  size_t n = size_t(height) * size_t(width);
  Canvas cv{height, width, std::vector<int>(n, -1), std::vector<int>(n, -1), {}, &noise};
  PascalSynthSample& s = cv.out;
  s.height = height;
  s.width = width;
  s.rgb.assign(3 * n, 0);
  s.semseg.assign(n, 0);
  s.context.assign(n, 0);
  s.saliency.assign(n, 0);
  s.normals.assign(3 * n, 0);

  int upper = kUpper[rng.randint(std::size(kUpper))], lower = kLower[rng.randint(std::size(kLower))];
  double horizon = rng.uniform(0.3, 0.65) * height, tilt = rng.uniform(-0.15, 0.15);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      bool below = y + 0.5 > horizon + tilt * (x + 0.5 - width / 2.0);
      int label = below ? lower : upper;
      double shade = below ? 0.7 + 0.3 * (y + 0.5) / height : 1.0 - 0.2 * (y + 0.5) / height;
      // Stuff faces up (ground) or the camera (the rest); these normals are what the distilled PNGs would hold.
      cv.paint(y, x, -1, -1, 0, label, class_colour(label), shade, 0, below ? -0.8 : 0, below ? 0.6 : 1);
    }

  // Things, back to front: 0-3 VOC objects and, in 60% of the images, 1-2 people, in random order.
  std::vector<int> things;
  for (int64_t k = rng.randint(4); k > 0; --k) {
    int voc = 1 + int(rng.randint(19));
    things.push_back(voc >= kVocPerson ? voc + 1 : voc);  // any class but person
  }
  if (rng.uniform() < 0.6)
    for (int64_t k = 1 + rng.randint(2); k > 0; --k) things.push_back(kVocPerson);
  for (size_t i = things.size(); i > 1; --i) std::swap(things[i - 1], things[size_t(rng.randint(int64_t(i)))]);

  std::vector<std::vector<std::string>> part_names(things.size());
  for (size_t k = 0; k < things.size(); ++k) {
    int voc = things[k], inst = int(k);
    if (voc == kVocPerson) {
      draw_person(cv, rng, inst, part_names[k]);
      continue;
    }
    Rgb colour = class_colour(kContextLabels[voc]);
    double cx = rng.uniform(0.1, 0.9) * width, cy = rng.uniform(0.3, 0.9) * height;
    double rx = rng.uniform(0.06, 0.25) * width, ry = rng.uniform(0.06, 0.25) * height;
    if (rng.uniform() < 0.5) draw_ellipse(cv, cx, cy, rx, ry, inst, voc, colour);
    else draw_box(cv, cx, cy, rx, ry, inst, voc, colour);
  }

  // Visible masks, from what was painted last at each pixel.
  for (size_t k = 0; k < things.size(); ++k) {
    PascalObject o;
    o.voc_class = things[k];
    o.mask.assign(n, 0);
    std::vector<PascalPart> parts(part_names[k].size());
    for (size_t j = 0; j < parts.size(); ++j) parts[j] = {part_names[k][j], std::vector<uint8_t>(n, 0)};
    bool visible = false;
    for (size_t p = 0; p < n; ++p) {
      if (cv.instance[p] != int(k)) continue;
      o.mask[p] = 1;
      visible = true;
      if (cv.part[p] >= 0) parts[size_t(cv.part[p])].mask[p] = 1;
    }
    if (!visible) continue;
    for (PascalPart& part : parts)
      if (std::count(part.mask.begin(), part.mask.end(), 1) > 0) o.parts.push_back(std::move(part));
    s.objects.push_back(std::move(o));
  }
  return std::move(cv.out);
}

}  // namespace mtinet::synth
