// The procedural PASCAL-Context scene of `mtinet synth --layout pascal`: a 2-D picture of a background split at a
// horizon into two PASCAL-Context "stuff" classes (sky, wall, building... over grass, floor, road...), VOC objects
// drawn as shaded ellipses and boxes, and people drawn as articulated figures whose body parts carry PASCAL-Part
// names (head, hair, torso, neck, l/r upper and lower arms, hands, upper and lower legs, feet), each in a random
// pose. Painted back to front, so nearer things occlude farther ones and every mask is what is visible.
// Everything a PASCAL_MT sample holds comes out of one drawing: semseg (VOC 0..20), the LabelMap (Context ids),
// saliency (objects and people), normals (shaded shapes facing the camera) and the part annotations.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mtinet::synth {

constexpr int kVocPerson = 15;
// The PASCAL-Context id of each VOC class (0 = background unused), the reference's CONTEXT_CATEGORY_LABELS.
int voc_to_context_label(int voc_class);
const char* voc_class_name(int voc_class);  // "aeroplane", ..., "tvmonitor"

struct PascalPart {
  std::string name;            // a PASCAL-Part person part name
  std::vector<uint8_t> mask;   // H*W, 0/1, visible pixels
};

struct PascalObject {
  int voc_class = 0;           // 1..20
  std::vector<uint8_t> mask;   // H*W, 0/1, visible pixels
  std::vector<PascalPart> parts;  // people only; parts that ended up fully hidden are left out
};

struct PascalSynthSample {
  int height = 0, width = 0;
  std::vector<uint8_t> rgb;        // H*W*3
  std::vector<uint8_t> semseg;     // H*W, 0..20
  std::vector<uint16_t> context;   // H*W, PASCAL-Context ids (LabelMap)
  std::vector<uint8_t> saliency;   // H*W, 0 or 255
  std::vector<uint8_t> normals;    // H*W*3, round((n + 1) / 2 * 255)
  std::vector<PascalObject> objects;  // in drawing order (farthest first); objects hidden entirely are left out
};

// Sample `index` of the dataset of `seed`: a function of (seed, index, size) only.
PascalSynthSample synthesize_pascal_sample(uint64_t seed, int64_t index, int height, int width);

}  // namespace mtinet::synth
