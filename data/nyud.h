// NYUD-v2 in the layout the reference reads:
//   images/<id>.jpg|png, segmentation/<id>.png (0 = unlabeled -> 255 ignore, k -> k-1), depth/<id>.npy (metres,
//   0 invalid), normals/<id>.npy (HxWx3), edge/<id>.npy (HxW binary), gt_sets/{train,val}.txt (ids).
// Only the files of the tasks in use are required; all of them are checked to exist when the dataset opens.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace mtinet {

class NyudDataset : public Dataset {
 public:
  // tasks: any of "semseg", "depth", "normals", "edge"; split: "train" or "val".
  NyudDataset(std::string root, std::string split, std::vector<std::string> tasks);
  size_t size() const override { return ids_.size(); }
  Sample load(size_t i) const override;
  std::string name() const override { return "nyud:" + split_; }
  const std::string& id(size_t i) const { return ids_.at(i); }

 private:
  std::string image_path(const std::string& id) const;
  std::string root_, split_;
  std::vector<std::string> tasks_;
  std::vector<std::string> ids_;
};

}  // namespace mtinet
