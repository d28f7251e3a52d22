// The names of the segmentation classes, so that per-class results (IoU in the JSON, tables) say "chair" rather
// than 4. Index i names the class the network's channel i predicts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mtinet {

// NYUD-v2's 40 classes (Gupta et al.), labels 1..40 of the authors' NYUD_MT files, classes 0..39 here.
const std::vector<std::string>& nyud40_class_names();
// PASCAL-Context semseg as MTI-Net evaluates it: the 20 VOC classes with background first (21).
const std::vector<std::string>& pascal_voc21_class_names();
// PASCAL-Context human parts, the reference's 6-part grouping with background first (7): hand counts as lower arm,
// foot as lower leg, neck as torso, the face parts and hair as head.
const std::vector<std::string>& pascal_human_parts7_class_names();

// The names for `task` ("semseg", "human_parts") of `dataset` ("nyud", "pascal") when the model predicts that list's
// number of classes; an empty list otherwise (a test model with 5 classes gets no names rather than wrong ones).
std::vector<std::string> class_names_for(const std::string& dataset, const std::string& task, int64_t classes);

}  // namespace mtinet
