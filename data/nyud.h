// NYUD-v2 in the layout the reference reads:
//   images/<id>.jpg|png, segmentation/<id>.png (u8: 0 = unlabeled -> 255 ignore, k in 1..40 -> class k-1),
//   depth/<id>.npy (float, metres, 0 invalid), normals/<id>.npy (float HxWx3), edge/<id>.npy (HxW binary, any
//   numeric type), gt_sets/{train,val}.txt (ids).
// Only the files of the tasks in use are required; all of them are checked to exist when the dataset opens. When a
// sample is read, each label is checked against its task's rules (data/label_checks.h) before any augmentation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace mtinet {

class NyudDataset : public Dataset {
 public:
  static constexpr int64_t kClasses = 40;  // NYUD-40
  // tasks: any of "semseg", "depth", "normals", "edge"; split: "train" or "val". semseg_classes: segmentation
  // files may hold 0..semseg_classes.
  NyudDataset(std::string root, std::string split, std::vector<std::string> tasks,
              int64_t semseg_classes = kClasses);
  size_t size() const override { return ids_.size(); }
  Sample load(size_t i) const override;
  std::string name() const override { return "nyud:" + split_; }
  const std::string& id(size_t i) const { return ids_.at(i); }

 private:
  std::string image_path(const std::string& id) const;
  std::string root_, split_;
  std::vector<std::string> tasks_;
  std::vector<std::string> ids_;
  int64_t classes_;
};

}  // namespace mtinet
