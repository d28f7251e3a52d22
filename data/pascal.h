// PASCAL-Context multi-task (the authors' PASCAL_MT download) in the layout the reference reads:
//   JPEGImages/<id>.jpg (or .png), ImageSets/Context/{train,val}.txt (ids),
//   semseg:      semseg/VOC12/<id>.png when it exists (the reference prefers it), else
//                semseg/pascal-context/<id>.png; 8-bit grey or indexed (palette indices, as PIL reads them),
//                0 = background, 1..20 VOC classes, 255 = ignore (kept as stored, no shift);
//   human_parts: human_parts/<id>.mat, PASCAL-Part annotations -> 0..6 (data/pascal_parts.h);
//   edge:        pascal-context/trainval/<id>.mat, thinned LabelMap boundaries (data/pascal_edges.h);
//   normals:     normals_distill/<id>.png, valid on the LabelMap's NYUD-known classes (data/pascal_normals.h), so
//                it needs the pascal-context .mat file too;
//   sal:         sal_distill/<id>.png, 8-bit single channel, 1 where value / 255 > 0.5, else 0.
// Only the files of the tasks in use are required; all of them are checked to exist when the dataset opens.
// A difference from the reference, on purpose: labels of another size than their image are an error naming the
// file (the reference resizes them, nearest).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace mtinet {

class PascalDataset : public Dataset {
 public:
  static constexpr int64_t kSemsegClasses = 21;  // background + the 20 VOC classes
  // tasks: any of "semseg", "human_parts", "sal", "normals", "edge"; split: a file name in ImageSets/Context.
  PascalDataset(std::string root, std::string split, std::vector<std::string> tasks);
  size_t size() const override { return ids_.size(); }
  // Human parts come as the reference loads them (all 0 for images without people); the loader turns all-zero maps
  // into all-ignore after augmentation (ignore_samples_without_parts).
  Sample load(size_t i) const override;
  std::string name() const override { return "pascal:" + split_; }
  const std::string& id(size_t i) const { return ids_.at(i); }

 private:
  std::string image_path(const std::string& id) const;
  std::string root_, split_;
  std::vector<std::string> tasks_;
  std::vector<std::string> ids_;
};

// The reference's PASCAL training augmentation (utils/common_config.py): horizontal flip (p = 0.5), scale uniform
// in 0.75..1.25 and rotation uniform in -20..20 degrees about the centre (zero border, normals rotated in plane),
// then resize to 512x512; image and normals cubic, semseg, human parts, saliency and edges nearest (each field's
// Interp, set by PascalDataset::load).
AugmentConfig pascal_augment_config();

}  // namespace mtinet
