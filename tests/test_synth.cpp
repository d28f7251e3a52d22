// The procedural multi-task generator: ray-hit geometry against closed forms, a hand-built scene whose depth,
// normals and labels are known analytically, cross-task consistency on random scenes (edges at label changes,
// back-projected floor/wall pixels on their planes, floor normals "up"), the sensor model, the written NYUD layout
// and determinism across runs and thread counts.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "core/file_io.h"
#include "data/image.h"
#include "data/npy.h"
#include "data/nyud.h"
#include "data/synth_dataset.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::synth;

namespace {

Scene empty_room(Vec3 size) {
  Scene s;
  s.room_size = size;
  s.wall_look = class_appearance(cls::kWall);
  s.floor_look = class_appearance(cls::kFloor);
  s.ceiling_look = class_appearance(cls::kCeiling);
  s.lights.push_back({{size.x / 2, size.y - 0.1, size.z / 2}, 1.0});
  return s;
}

SceneObject object(ShapeKind kind, int label, Vec3 center, Vec3 half, double radius = 0, double yaw = 0) {
  SceneObject o;
  o.kind = kind;
  o.label = label;
  o.center = center;
  o.half_extent = half;
  o.radius = radius;
  o.yaw = yaw;
  o.look = class_appearance(label);
  return o;
}

void check_vec(Vec3 got, Vec3 want, double tol) {
  CHECK(std::abs(got.x - want.x) <= tol);
  CHECK(std::abs(got.y - want.y) <= tol);
  CHECK(std::abs(got.z - want.z) <= tol);
}

std::string temp_dir(const std::string& name) {
  std::string dir = "/tmp/mtinet_test_synth_" + std::to_string(::getpid()) + "_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("synth: ray hits of boxes, spheres and cylinders match closed forms") {
  Scene s = empty_room({10, 10, 10});
  s.objects.push_back(object(ShapeKind::Sphere, cls::kOtherProp, {5, 5, 8}, {1, 1, 1}, 1.0));
  s.objects.push_back(object(ShapeKind::Cylinder, cls::kChair, {2, 1, 8}, {0.5, 1, 0.5}, 0.5));
  s.objects.push_back(object(ShapeKind::Box, cls::kTable, {8, 1, 8}, {1, 1, 1}, 0, M_PI / 4));

  RayHit h = cast_ray(s, {5, 5, 1}, {0, 0, 1});  // head-on into the sphere
  CHECK(h.surface == kNumRoomFaces + 0);
  CHECK(h.t == doctest::Approx(6.0).epsilon(1e-12));
  check_vec(h.normal, {0, 0, -1}, 1e-12);
  h = cast_ray(s, {5, 5 + 0.6, 1}, {0, 0, 2});  // off-centre, unnormalised direction: t is in units of it
  CHECK(h.t == doctest::Approx((7.0 - std::sqrt(1 - 0.36)) / 2).epsilon(1e-12));
  check_vec(h.normal, {0, 0.6, -0.8}, 1e-12);

  h = cast_ray(s, {2, 1, 1}, {0, 0, 1});  // the cylinder's side
  CHECK(h.surface == kNumRoomFaces + 1);
  CHECK(h.t == doctest::Approx(6.5).epsilon(1e-12));
  check_vec(h.normal, {0, 0, -1}, 1e-12);
  h = cast_ray(s, {2.2, 9, 8.1}, {0, -1, 0});  // straight down onto its top cap at y = 2
  CHECK(h.t == doctest::Approx(7.0).epsilon(1e-12));
  check_vec(h.normal, {0, 1, 0}, 1e-12);
  h = cast_ray(s, {1.45, 9, 8}, {0, -1, 0});  // just outside its radius: the floor
  CHECK(h.surface == kFloorFace);
  CHECK(h.t == doctest::Approx(9.0).epsilon(1e-12));

  // The box turned by 45 degrees shows an edge to a ray along z: 0.1 beside it the face is 0.1 further away.
  h = cast_ray(s, {8.1, 1, 1}, {0, 0, 1});
  CHECK(h.surface == kNumRoomFaces + 2);
  CHECK(h.t == doctest::Approx(7 - std::sqrt(2.0) + 0.1).epsilon(1e-12));
  check_vec(h.normal, {std::sqrt(0.5), 0, -std::sqrt(0.5)}, 1e-12);

  // From inside the room every direction ends on a face; t_max cuts hits off.
  h = cast_ray(s, {5, 5, 5}, {0, 1, 0});
  CHECK(h.surface == kCeilingFace);
  CHECK(h.t == doctest::Approx(5.0));
  check_vec(h.normal, {0, -1, 0}, 0);
  CHECK(cast_ray(s, {5, 5, 5}, {0, 1, 0}, 4.0).surface == kNoSurface);
  CHECK(cast_ray(s, {5, 5, 5}, {-1, 0, 0}).surface == kWallX0);
}

TEST_CASE("synth: a hand-built scene renders its analytic depth, normals and labels") {
  // A 4 x 3 x 5 m room, the camera 1.5 m up at z = 1 looking along +z at the far wall (z = 5, 4 m away), a
  // 1 m cube (a table) in front whose face is at z = 2.5.
  Scene s = empty_room({4, 3, 5});
  s.objects.push_back(object(ShapeKind::Box, cls::kTable, {2, 0.5, 3}, {0.5, 0.5, 0.5}));
  const int H = 60, W = 80;
  s.camera = look_at({2, 1.5, 1}, {2, 1.5, 5}, 0.0, H, W);
  const Camera& c = s.camera;
  CHECK(c.fx == doctest::Approx(518.86 * W / 640));
  CHECK(c.fy == doctest::Approx(519.47 * H / 480));
  check_vec(c.forward, {0, 0, 1}, 1e-15);
  check_vec(c.down, {0, -1, 0}, 1e-15);
  check_vec(cross(c.right, c.down), c.forward, 1e-15);

  Rng rng(1);
  SceneRender r = render_scene(s, rng);
  int wall = 0, floor = 0, box = 0;
  for (int row = 0; row < H; ++row) {
    for (int col = 0; col < W; ++col) {
      size_t i = size_t(row) * W + size_t(col);
      double v = (row + 0.5 - c.cy) / c.fy;  // the ray's downward slope per metre of depth
      double u = (col + 0.5 - c.cx) / c.fx;
      Vec3 n{r.normal[3 * i], r.normal[3 * i + 1], r.normal[3 * i + 2]};
      INFO("pixel " << row << "," << col << " surface " << r.surface[i]);
      // The ray reaches the cube's face (z = 2.5) at height 1.5 - 1.5 v and x offset 1.5 u.
      bool hits_box = 1.5 - 1.5 * v <= 1.0 && std::abs(1.5 * u) <= 0.5;
      if (hits_box) {
        ++box;
        CHECK(r.surface[i] == kNumRoomFaces);
        CHECK(r.label[i] == cls::kTable);
        CHECK(r.depth[i] == doctest::Approx(1.5).epsilon(1e-6));
        check_vec(n, {0, 0, -1}, 1e-6);
      } else if (r.surface[i] == kWallZ1) {
        ++wall;
        CHECK(r.label[i] == cls::kWall);
        CHECK(r.depth[i] == doctest::Approx(4.0).epsilon(1e-6));  // z-depth is constant over a fronto-parallel wall
        check_vec(n, {0, 0, -1}, 1e-6);
      } else if (r.surface[i] == kFloorFace) {
        ++floor;
        CHECK(r.label[i] == cls::kFloor);
        CHECK(r.depth[i] == doctest::Approx(1.5 / v).epsilon(1e-6));  // the ray drops 1.5 m at depth 1.5 / v
        check_vec(n, {0, -1, 0}, 1e-6);                                // "up" is -y in the camera frame
      }
    }
  }
  CHECK(box > 20);
  CHECK(wall > 500);
  CHECK(floor > 50);
  // Pixel (row, col) sees the wall where the ray stays within it: rows whose slope keeps it above the floor.
  CHECK(r.surface[size_t(H / 2) * W + W / 2] == kWallZ1);

  std::vector<float> edge = compute_edges(r);
  for (int row = 0; row < H; ++row)
    for (int col = 0; col + 1 < W; ++col) {
      size_t i = size_t(row) * W + size_t(col);
      if (r.label[i] != r.label[i + 1]) {
        CHECK(edge[i] == 1.0f);
        CHECK(edge[i + 1] == 1.0f);
      }
    }
  // Inside a surface there are no edges.
  CHECK(edge[size_t(H / 2) * W + W / 2] == 0.0f);
}

TEST_CASE("synth: random samples are consistent across tasks") {
  const int H = 72, W = 96;
  int64_t floor_pixels = 0, wall_pixels = 0, label_changes = 0;
  std::set<int> labels_seen;
  for (int64_t index = 0; index < 6; ++index) {
    INFO("sample " << index);
    Scene scene = sample_scene(7, index, H, W);
    SynthSample s = synthesize_sample(7, index, H, W);
    REQUIRE(s.label.size() == size_t(H * W));
    REQUIRE(s.depth.size() == size_t(H * W));
    REQUIRE(s.normal.size() == size_t(3 * H * W));
    REQUIRE(s.edge.size() == size_t(H * W));
    REQUIRE(s.rgb.size() == size_t(3 * H * W));
    const Camera& c = scene.camera;
    Vec3 up_in_camera = c.to_camera({0, 1, 0});
    int64_t invalid = 0;
    for (int row = 0; row < H; ++row) {
      for (int col = 0; col < W; ++col) {
        size_t i = size_t(row) * W + size_t(col);
        int label = s.label[i];
        labels_seen.insert(label);
        CHECK(label <= kNumClasses);
        CHECK((s.edge[i] == 0.0f || s.edge[i] == 1.0f));
        Vec3 n{s.normal[3 * i], s.normal[3 * i + 1], s.normal[3 * i + 2]};
        if (s.depth[i] == 0.0f) {
          ++invalid;
          CHECK(dot(n, n) == 0.0);
          continue;
        }
        CHECK(s.depth[i] >= scene.min_range);
        CHECK(s.depth[i] <= scene.max_range);
        CHECK(std::abs(dot(n, n) - 1.0) < 1e-5);
        // Normals face the camera: the angle to the viewing ray exceeds 90 degrees.
        Vec3 ray{(col + 0.5 - c.cx) / c.fx, (row + 0.5 - c.cy) / c.fy, 1.0};
        CHECK(dot(n, ray) < 0);
        // Back-projecting the depth along the pixel's ray lands on the labelled surface.
        Vec3 p = c.position + double(s.depth[i]) * c.ray_direction(row, col);
        if (label == cls::kFloor) {
          ++floor_pixels;
          CHECK(std::abs(p.y) < 1e-4);
          check_vec(n, up_in_camera, 1e-5);
        } else if (label == cls::kCeiling) {
          CHECK(std::abs(p.y - scene.room_size.y) < 1e-4);
          check_vec(n, -up_in_camera, 1e-5);
        } else if (label == cls::kWall) {
          ++wall_pixels;
          double to_wall = std::min({std::abs(p.x), std::abs(p.x - scene.room_size.x), std::abs(p.z),
                                     std::abs(p.z - scene.room_size.z)});
          CHECK(to_wall < 1e-4);
          CHECK(std::abs(n.y * up_in_camera.y + n.x * up_in_camera.x + n.z * up_in_camera.z) < 1e-5);  // vertical
        }
      }
    }
    // The sensor model loses some pixels, but only a small fraction.
    CHECK(invalid > 0);
    CHECK(invalid < H * W / 4);
    // Every horizontal or vertical label change between labelled pixels is an edge on both sides.
    for (int row = 0; row < H; ++row)
      for (int col = 0; col < W; ++col) {
        size_t i = size_t(row) * W + size_t(col);
        for (size_t j : {col + 1 < W ? i + 1 : i, row + 1 < H ? i + size_t(W) : i}) {
          if (j == i || s.label[i] == s.label[j] || s.label[i] == 0 || s.label[j] == 0) continue;
          ++label_changes;
          CHECK(s.edge[i] == 1.0f);
          CHECK(s.edge[j] == 1.0f);
        }
      }
  }
  CHECK(floor_pixels > 500);
  CHECK(wall_pixels > 500);
  CHECK(label_changes > 100);
  CHECK(labels_seen.size() >= 6);  // room surfaces plus several object classes
}

TEST_CASE("synth: edges mark depth discontinuities between different surfaces of the same class") {
  // Two boxes of the same class, one behind the other: their outline against each other is no label change
  // but a depth jump (2 m -> 3 m), so it is an edge.
  Scene s = empty_room({6, 3, 8});
  s.objects.push_back(object(ShapeKind::Box, cls::kBox, {3, 1.5, 5}, {0.4, 0.4, 0.4}));
  s.objects.push_back(object(ShapeKind::Box, cls::kBox, {3, 1.5, 7}, {1.5, 1.0, 0.4}));
  s.camera = look_at({3, 1.5, 2}, {3, 1.5, 8}, 0.0, 48, 64);
  Rng rng(3);
  SceneRender r = render_scene(s, rng);
  std::vector<float> edge = compute_edges(r);
  int jumps = 0;
  for (size_t i = 0; i + 1 < r.label.size(); ++i) {
    if ((i + 1) % 64 == 0) continue;
    if (r.label[i] == r.label[i + 1] && r.surface[i] != r.surface[i + 1] && r.label[i] == cls::kBox) {
      ++jumps;
      CHECK(edge[i] == 1.0f);
      CHECK(edge[i + 1] == 1.0f);
    }
  }
  CHECK(jumps >= 10);
  // A pixel in the middle of the front box is not an edge.
  CHECK(edge[24 * 64 + 32] == 0.0f);
}

TEST_CASE("synth: the split is deterministic, disjoint and complete") {
  std::vector<int64_t> train, val, train2, val2;
  split_ids(10, 0.2, 5, train, val);
  CHECK(train.size() == 8);
  CHECK(val.size() == 2);
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(val.begin(), val.end());
  CHECK(all.size() == 10);
  CHECK(std::is_sorted(train.begin(), train.end()));
  split_ids(10, 0.2, 5, train2, val2);
  CHECK(train == train2);
  CHECK(val == val2);
  CHECK_THROWS_AS(split_ids(10, 1.5, 5, train, val), Error);
  CHECK(sample_id(123) == "000123");
  CHECK(sample_seed(0, 1) != sample_seed(1, 0));
}

TEST_CASE("synth: the written dataset has the NYUD layout, and is the same for any thread count") {
  SynthOptions o;
  o.count = 6;
  o.height = 48;
  o.width = 64;
  o.seed = 11;
  o.out_dir = temp_dir("a");
  int64_t calls = 0;
  SynthSummary summary = write_synth_dataset(o, [&](int64_t done, int64_t total) {
    ++calls;
    CHECK(done <= total);
  });
  CHECK(calls == 6);
  CHECK(summary.train == 5);
  CHECK(summary.val == 1);
  CHECK(summary.total_pixels == 6 * 48 * 64);
  int64_t counted = 0;
  for (int64_t c : summary.class_pixels) counted += c;
  CHECK(counted == summary.total_pixels);

  auto train_bytes = read_file_bytes(o.out_dir + "/gt_sets/train.txt");
  auto val_bytes = read_file_bytes(o.out_dir + "/gt_sets/val.txt");
  CHECK(std::count(train_bytes.begin(), train_bytes.end(), '\n') == 5);
  CHECK(std::count(val_bytes.begin(), val_bytes.end(), '\n') == 1);
  CHECK(std::string(val_bytes.begin(), val_bytes.end()).size() == 7);  // "000xyz\n"

  for (int64_t i = 0; i < 6; ++i) {
    std::string id = sample_id(i);
    INFO(id);
    Tensor img = load_image(o.out_dir + "/images/" + id + ".png");
    CHECK(img.shape() == Shape{48, 64, 3});
    CHECK(img.dtype() == DType::U8);
    Tensor seg = load_image(o.out_dir + "/segmentation/" + id + ".png");
    CHECK(seg.shape() == Shape{48, 64, 1});
    CHECK(seg.dtype() == DType::U8);
    for (int64_t p = 0; p < seg.numel(); ++p) CHECK(seg.data<uint8_t>()[p] <= 40);
    Tensor depth = load_npy(o.out_dir + "/depth/" + id + ".npy");
    CHECK(depth.shape() == Shape{48, 64});
    CHECK(depth.dtype() == DType::F32);
    Tensor normals = load_npy(o.out_dir + "/normals/" + id + ".npy");
    CHECK(normals.shape() == Shape{48, 64, 3});
    CHECK(normals.dtype() == DType::F32);
    Tensor edge = load_npy(o.out_dir + "/edge/" + id + ".npy");
    CHECK(edge.shape() == Shape{48, 64});
    CHECK(edge.dtype() == DType::F32);
    // The files hold exactly what synthesize_sample computes.
    SynthSample s = synthesize_sample(o.seed, i, 48, 64);
    CHECK(std::equal(s.label.begin(), s.label.end(), seg.data<uint8_t>()));
    CHECK(std::equal(s.rgb.begin(), s.rgb.end(), img.data<uint8_t>()));
    CHECK(std::equal(s.depth.begin(), s.depth.end(), depth.data<float>()));
    CHECK(std::equal(s.normal.begin(), s.normal.end(), normals.data<float>()));
    CHECK(std::equal(s.edge.begin(), s.edge.end(), edge.data<float>()));
  }

  // The same options with 1 and with 2 threads give byte-identical files; another seed does not.
  const int saved_threads = omp_get_max_threads();
  SynthOptions one = o, two = o, other = o;
  one.out_dir = temp_dir("one");
  two.out_dir = temp_dir("two");
  other.out_dir = temp_dir("other");
  other.seed = 12;
  omp_set_num_threads(1);
  write_synth_dataset(one);
  omp_set_num_threads(2);
  write_synth_dataset(two);
  omp_set_num_threads(saved_threads);
  write_synth_dataset(other);
  int64_t differing = 0;
  for (const char* rel : {"images/000000.png", "segmentation/000003.png", "depth/000005.npy", "normals/000001.npy",
                          "edge/000004.npy", "gt_sets/train.txt", "gt_sets/val.txt"}) {
    INFO(rel);
    auto a = read_file_bytes(o.out_dir + "/" + rel);
    CHECK(read_file_bytes(one.out_dir + "/" + rel) == a);
    CHECK(read_file_bytes(two.out_dir + "/" + rel) == a);
    differing += read_file_bytes(other.out_dir + "/" + rel) != a;
  }
  CHECK(differing >= 5);
  for (const std::string& d : {o.out_dir, one.out_dir, two.out_dir, other.out_dir}) std::filesystem::remove_all(d);
}

TEST_CASE("synth: the NYUD reader opens the generated dataset with every task") {
  SynthOptions o;
  o.count = 5;
  o.height = 40;
  o.width = 56;
  o.seed = 2;
  o.out_dir = temp_dir("nyud");
  write_synth_dataset(o);
  NyudDataset train(o.out_dir, "train", {"semseg", "depth", "normals", "edge"});
  NyudDataset val(o.out_dir, "val", {"semseg", "depth", "normals", "edge"});
  CHECK(train.size() == 4);
  CHECK(val.size() == 1);
  Sample s = val.load(0);
  SynthSample want = synthesize_sample(o.seed, std::stoll(val.id(0)), 40, 56);
  CHECK(s.fields.at("image").map.shape() == Shape{40, 56, 3});
  CHECK(s.fields.at("normals").map.shape() == Shape{40, 56, 3});
  const float* seg = s.fields.at("semseg").map.data<float>();
  const float* depth = s.fields.at("depth").map.data<float>();
  const float* edge = s.fields.at("edge").map.data<float>();
  for (size_t p = 0; p < want.label.size(); ++p) {
    CHECK(seg[p] == (want.label[p] == 0 ? 255.0f : float(want.label[p] - 1)));  // 1..40 -> 0..39, 0 -> ignore
    CHECK(depth[p] == want.depth[p]);
    CHECK(edge[p] == want.edge[p]);
  }
  std::filesystem::remove_all(o.out_dir);
}

TEST_CASE("synth: bad options are rejected") {
  SynthOptions o;
  o.out_dir = temp_dir("bad");
  o.count = 0;
  CHECK_THROWS_WITH_AS(write_synth_dataset(o), doctest::Contains("count"), Error);
  o.count = 2;
  o.height = 4;
  CHECK_THROWS_WITH_AS(write_synth_dataset(o), doctest::Contains("size"), Error);
  CHECK_THROWS_AS(look_at({1, 1, 1}, {1, 3, 1}, 0, 10, 10), Error);  // straight up

  // A write that fails inside the parallel loop (a directory squats on the temporary file's name) surfaces as an
  // Error naming the file, after the loop.
  o.height = 16;
  o.width = 16;
  o.count = 4;
  std::filesystem::create_directories(o.out_dir + "/depth/000002.npy.tmp");
  CHECK_THROWS_WITH_AS(write_synth_dataset(o), doctest::Contains("000002.npy"), Error);
  CHECK(!file_exists(o.out_dir + "/gt_sets/train.txt"));
  std::filesystem::remove_all(o.out_dir);
}
