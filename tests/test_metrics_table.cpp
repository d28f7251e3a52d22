// `mtinet eval`'s terminal tables and the class names beside per-class IoU in the results JSON.
#include <doctest/doctest.h>

#include "eval/class_names.h"
#include "eval/metrics.h"
#include "eval/metrics_table.h"

using namespace mtinet;

TEST_CASE("eval table: one row per scalar metric, counts as integers, arrays left to the JSON") {
  nlohmann::json results = {
      {"depth", {{"rmse", 0.6204}, {"log_rmse", 0.21}}},
      {"semseg", {{"mIoU", 0.35125}, {"n_images", 654}, {"jaccards_all_categs", {0.5, 0.2}},
                  {"class_names", {"wall", "floor"}}}}};
  CHECK(metrics_table(results) ==
        "task         | metric               |      value\n"
        "depth        | log_rmse             |     0.2100\n"
        "depth        | rmse                 |     0.6204\n"
        "semseg       | mIoU                 |     0.3513\n"
        "semseg       | n_images             |        654\n");
  CHECK(per_class_iou_table(results) ==
        "task         | class | name                 |        IoU\n"
        "semseg       |     0 | wall                 |     0.5000\n"
        "semseg       |     1 | floor                |     0.2000\n");
  CHECK(per_class_iou_table({{"depth", {{"rmse", 0.6}}}}).empty());
}

TEST_CASE("eval: segmentation results name their classes (NYUD 40, PASCAL-Context 21 and human parts 7)") {
  REQUIRE(nyud40_class_names().size() == 40);
  CHECK(nyud40_class_names()[0] == "wall");
  CHECK(nyud40_class_names()[4] == "chair");
  CHECK(nyud40_class_names()[39] == "otherprop");
  REQUIRE(pascal_voc21_class_names().size() == 21);
  CHECK(pascal_voc21_class_names()[0] == "background");
  CHECK(pascal_voc21_class_names()[15] == "person");
  CHECK(pascal_voc21_class_names()[20] == "tvmonitor");
  CHECK(pascal_human_parts7_class_names()[3] == "upper arm");

  std::unique_ptr<Metric> nyud = make_metric("semseg", metric_options_for("nyud"));
  nlohmann::json r = nyud->results();
  REQUIRE(r.contains("class_names"));
  CHECK(r["class_names"].size() == r["jaccards_all_categs"].size());
  CHECK(r["class_names"][39] == "otherprop");
  CHECK(r.contains("mIoU"));  // the reference's fields stay
  MetricOptions pascal = metric_options_for("pascal");
  CHECK(make_metric("semseg", pascal)->results()["class_names"][0] == "background");
  CHECK(make_metric("human_parts", pascal)->results()["class_names"][6] == "lower leg");
  MetricOptions five = metric_options_for("nyud");
  five.semseg_classes = 5;  // a test model's class count: no names rather than wrong ones
  CHECK_FALSE(make_metric("semseg", five)->results().contains("class_names"));
}
