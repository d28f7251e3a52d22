#include "data/synth_pascal.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/file_io.h"
#include "data/image.h"
#include "data/mat_write.h"

namespace mtinet::synth {

namespace {

Tensor u8_tensor(const std::vector<uint8_t>& values, int64_t h, int64_t w, int64_t c) {
  Tensor t = Tensor::empty({h, w, c}, DType::U8);
  std::memcpy(t.raw_data(), values.data(), values.size());
  return t;
}

// The image as the real dataset has it: JPEG (quality 95), written atomically.
void save_jpeg(const std::string& path, const std::vector<uint8_t>& rgb, int h, int w) {
  std::vector<uint8_t> bytes;
  auto append = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  MTINET_CHECK(stbi_write_jpg_to_func(append, &bytes, w, h, 3, rgb.data(), 95) != 0, "cannot encode '", path,
               "' as JPEG");
  write_file_atomic(path, bytes.data(), bytes.size());
}

void write_sample(const std::string& dir, const std::string& id, const PascalSynthSample& s) {
  const int64_t h = s.height, w = s.width;
  save_jpeg(dir + "/JPEGImages/" + id + ".jpg", s.rgb, s.height, s.width);
  save_png(dir + "/semseg/pascal-context/" + id + ".png", u8_tensor(s.semseg, h, w, 1));
  save_png(dir + "/sal_distill/" + id + ".png", u8_tensor(s.saliency, h, w, 1));
  save_png(dir + "/normals_distill/" + id + ".png", u8_tensor(s.normals, h, w, 3));
  write_mat(dir + "/human_parts/" + id + ".mat", {{"anno", pascal_part_annotation(s, id)}});
  write_mat(dir + "/pascal-context/trainval/" + id + ".mat", {{"LabelMap", mat_uint16({h, w}, s.context)}});
}

}  // namespace

MatValue pascal_part_annotation(const PascalSynthSample& s, const std::string& id) {
  const int64_t h = s.height, w = s.width;
  std::vector<MatValue> object_fields;
  for (const PascalObject& o : s.objects) {
    std::vector<MatValue> part_fields;
    for (const PascalPart& p : o.parts) {
      part_fields.push_back(mat_string(p.name));
      part_fields.push_back(mat_uint8({h, w}, p.mask));
    }
    int64_t n_parts = int64_t(o.parts.size());
    std::vector<int64_t> parts_shape = n_parts > 0 ? std::vector<int64_t>{1, n_parts} : std::vector<int64_t>{0, 0};
    object_fields.push_back(mat_string(voc_class_name(o.voc_class)));
    object_fields.push_back(mat_double({1, 1}, {double(o.voc_class)}));
    object_fields.push_back(mat_uint8({h, w}, o.mask));
    object_fields.push_back(mat_struct(parts_shape, {"part_name", "mask"}, std::move(part_fields)));
  }
  int64_t n_objects = int64_t(s.objects.size());
  MatValue objects = mat_struct({n_objects > 0 ? 1 : 0, n_objects}, {"class", "class_ind", "mask", "parts"},
                                std::move(object_fields));
  return mat_struct({1, 1}, {"imname", "objects"}, {mat_string(id), std::move(objects)});
}

PascalSynthSummary write_pascal_synth_dataset(const SynthOptions& o,
                                              const std::function<void(int64_t, int64_t)>& progress) {
  MTINET_CHECK(!o.out_dir.empty(), "synth: the output directory is empty");
  MTINET_CHECK(o.count > 0, "synth: the image count must be positive, got ", o.count);
  PascalSynthSummary summary;
  std::vector<int64_t> train, val;
  split_ids(o.count, o.val_fraction, o.seed, train, val);  // validates the fraction before anything is written
  summary.train = int64_t(train.size());
  summary.val = int64_t(val.size());
  create_subdirs(o.out_dir, {"JPEGImages", "ImageSets/Context", "semseg/pascal-context", "human_parts",
                             "pascal-context/trainval", "normals_distill", "sal_distill"});
  for_each_sample(o.count, [&](int64_t i) {
    PascalSynthSample s = synthesize_pascal_sample(o.seed, i, o.height, o.width);
    write_sample(o.out_dir, sample_id(i), s);
    bool people = std::any_of(s.objects.begin(), s.objects.end(),
                              [](const PascalObject& ob) { return ob.voc_class == kVocPerson; });
    int64_t person = std::count(s.semseg.begin(), s.semseg.end(), uint8_t(kVocPerson));
    int64_t salient = std::count(s.saliency.begin(), s.saliency.end(), uint8_t(255));
#pragma omp critical(pascal_synth_summary)
    {
      summary.images_with_people += people;
      summary.total_pixels += int64_t(s.semseg.size());
      summary.person_pixels += person;
      summary.salient_pixels += salient;
    }
  }, progress);
  write_id_list(o.out_dir + "/ImageSets/Context/train.txt", train);
  write_id_list(o.out_dir + "/ImageSets/Context/val.txt", val);
  return summary;
}

}  // namespace mtinet::synth
