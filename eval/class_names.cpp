#include "eval/class_names.h"

namespace mtinet {

const std::vector<std::string>& nyud40_class_names() {
  static const std::vector<std::string> names = {
      "wall",       "floor",          "cabinet",   "bed",        "chair",          "sofa",           "table",
      "door",       "window",         "bookshelf", "picture",    "counter",        "blinds",         "desk",
      "shelves",    "curtain",        "dresser",   "pillow",     "mirror",         "floor mat",      "clothes",
      "ceiling",    "books",          "refrigerator", "television", "paper",       "towel",          "shower curtain",
      "box",        "whiteboard",     "person",    "night stand", "toilet",        "sink",           "lamp",
      "bathtub",    "bag",            "otherstructure", "otherfurniture", "otherprop"};
  return names;
}

const std::vector<std::string>& pascal_voc21_class_names() {
  static const std::vector<std::string> names = {
      "background", "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",
      "car",        "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",
      "motorbike",  "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
  return names;
}

const std::vector<std::string>& pascal_human_parts7_class_names() {
  static const std::vector<std::string> names = {"background", "head",      "torso",    "upper arm",
                                                 "lower arm",  "upper leg", "lower leg"};
  return names;
}

std::vector<std::string> class_names_for(const std::string& dataset, const std::string& task, int64_t classes) {
  const std::vector<std::string>* names = nullptr;
  if (dataset == "nyud" && task == "semseg") names = &nyud40_class_names();
  if (dataset == "pascal" && task == "semseg") names = &pascal_voc21_class_names();
  if (dataset == "pascal" && task == "human_parts") names = &pascal_human_parts7_class_names();
  if (!names || int64_t(names->size()) != classes) return {};
  return *names;
}

}  // namespace mtinet
