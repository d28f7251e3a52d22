// Human-part labels of PASCAL-Context from PASCAL-Part annotations (human_parts/<id>.mat), computed as the
// reference (Multi-Task-Learning-PyTorch, data/pascal_context.py, _load_human_parts with num_human_parts = 6):
//   - the file holds `anno` with anno.objects(k).{class, class_ind, mask, parts(j).{part_name, mask}};
//   - an image has human parts when some object of class_ind 15 (person) has a mask of non-zero area (the
//     reference's ImageSets/Parts cache, area_thres 0);
//   - then every person object with part annotations paints its parts, in file order, with the group of the part's
//     name (later parts overwrite earlier ones); pixels of no part are background 0;
//   - otherwise (no people, or people without parts) the map is all 0.
// After augmentation an all-zero map becomes all-ignore (255): the reference's AddIgnoreRegions, which runs after
// its rotation and resize. Doing it before would turn the rotation's zero-filled border into background.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "data/label_checks.h"
#include "data/mat.h"
#include "data/sample.h"

namespace mtinet {

constexpr int kPascalPersonClass = 15;  // class_ind of a person in PASCAL-Part (VOC's class order)
constexpr int64_t kHumanPartClasses = 7;  // background + 6 part groups

// The group of a PASCAL-Part person part (the reference's HUMAN_PART[6]): 1 head (hair, head, ears, eyebrows,
// eyes, mouth, nose), 2 torso (torso, neck), 3 upper arms, 4 lower arms and hands, 5 upper legs, 6 lower legs and
// feet. -1 for a name the reference does not know.
int human_part_group(const std::string& part_name);

// The {height, width, 1} f32 part map of one annotation file, 0..6. Throws naming the file and the value's path on
// an unknown part name, a mask of another size than the image, or a file without anno.objects.
Tensor human_parts_label(const MatFile& file, int64_t height, int64_t width, const LabelSource& src);

// The reference's AddIgnoreRegions for human parts: a sample whose "human_parts" map is all 0 after augmentation
// (an image without annotated people) is ignored entirely (255). Samples without the field are left alone.
void ignore_samples_without_parts(Sample& s);

}  // namespace mtinet
