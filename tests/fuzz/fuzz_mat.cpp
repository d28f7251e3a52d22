// Fuzz target: the MAT-file reader on an in-memory file, then the PASCAL label readers built on it when the file
// holds their variables: human parts from a PASCAL-Part `anno` struct, edges (Laplacian + thinning) from a LabelMap.
#include "data/mat.h"
#include "data/pascal_edges.h"
#include "data/pascal_parts.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_mat(const uint8_t* data, size_t size) {
  // Label maps are bounded so that a valid but huge map (thinning is iterative) is not reported as a hang.
  constexpr int64_t kMaxLabelPixels = int64_t(1) << 16;
  try {
    MatFile f = parse_mat(data, size, "fuzz.mat");
    LabelSource src{"fuzz.mat", "fuzz", "PASCAL"};
    if (f.has("LabelMap") && f.var("LabelMap").numel() <= kMaxLabelPixels) edge_label(f, src);
    if (f.has("anno")) {
      // The image size an annotation is read against: its first object's mask, as a dataset would pass it.
      const MatValue& objects = f.var("anno").field("objects");
      if (objects.struct_size() > 0) {
        const MatValue& mask = objects.field(0, "mask");
        if (mask.shape.size() == 2 && mask.numel() <= kMaxLabelPixels)
          human_parts_label(f, mask.shape[0], mask.shape[1], src);
      }
    }
  } catch (const Error&) {
    // A rejected file is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_mat)
