// The procedural PASCAL-Context dataset: N scenes of data/synth_pascal_scene.h written in the layout of the authors'
// PASCAL_MT download, so data/pascal.h reads it like the real one, .mat files included:
//   JPEGImages/<id>.jpg, ImageSets/Context/{train,val}.txt, semseg/pascal-context/<id>.png (0..20),
//   human_parts/<id>.mat (PASCAL-Part `anno`: imname, objects(k).{class, class_ind, mask, parts(j).{part_name,
//   mask}}), pascal-context/trainval/<id>.mat (LabelMap, uint16), normals_distill/<id>.png (RGB),
//   sal_distill/<id>.png (0/255).
// Sample i depends only on (seed, i): the output is the same for any thread count.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "data/mat.h"
#include "data/synth_dataset.h"
#include "data/synth_pascal_scene.h"

namespace mtinet::synth {

struct PascalSynthSummary {
  int64_t train = 0, val = 0;
  int64_t images_with_people = 0;
  int64_t total_pixels = 0, person_pixels = 0, salient_pixels = 0;
};

// The human_parts/<id>.mat variable `anno` of a sample, as PASCAL-Part stores it (masks uint8 HxW, class_ind
// double, objects without parts holding an empty 0x0 parts struct).
MatValue pascal_part_annotation(const PascalSynthSample& s, const std::string& id);

// Generates and writes the dataset (OpenMP over samples); options as for the NYUD layout. progress(done, total) is
// called after each sample, one call at a time, and must not throw.
PascalSynthSummary write_pascal_synth_dataset(const SynthOptions& options,
                                              const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mtinet::synth
