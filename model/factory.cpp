#include "model/factory.h"

#include "core/error.h"
#include "model/baselines.h"
#include "model/hrnet.h"
#include "model/mtinet.h"

namespace mtinet {

namespace {
std::string string_value(const nlohmann::json& j, const std::string& key) {
  MTINET_CHECK(j.at(key).is_string(), "model config: key '", key, "' must be a string, got ", j.at(key).dump());
  return j.at(key).get<std::string>();
}
}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  MTINET_CHECK(j.is_object(), "model config must be a JSON object, got ", j.dump());
  ModelConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "model") c.model = string_value(j, key);
    else if (key == "backbone") c.backbone = string_value(j, key);
    else if (key == "tasks") c.tasks = string_value(j, key);
    else if (key == "task") c.task = string_value(j, key);
    else if (key == "seed") {
      MTINET_CHECK(value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0),
                   "model config: key 'seed' must be a non-negative integer, got ", value.dump());
      c.seed = value.get<uint64_t>();
    } else {
      MTINET_FAIL("model config: unknown key '", key, "' (expected model, backbone, tasks, task, seed)");
    }
  }
  return c;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"model", model}, {"backbone", backbone}, {"tasks", tasks}, {"seed", seed}};
  if (!task.empty()) j["task"] = task;
  return j;
}

std::shared_ptr<MultiTaskNetwork> build_model(const ModelConfig& c) {
  HRNetConfig backbone;
  TaskSet tasks;
  try {
    backbone = HRNetConfig::by_name(c.backbone);
  } catch (const Error& e) {
    MTINET_FAIL("model config: key 'backbone': ", e.what());
  }
  try {
    tasks = task_set_by_name(c.tasks);
  } catch (const Error& e) {
    MTINET_FAIL("model config: key 'tasks': ", e.what());
  }
  Rng rng(c.seed);
  if (c.model == "single_task") {
    MTINET_CHECK(!c.task.empty(), "model config: model 'single_task' needs key 'task' (one of task set '", c.tasks,
                 "')");
    TaskSet single;
    try {
      single = tasks.single(c.task);
    } catch (const Error& e) {
      MTINET_FAIL("model config: key 'task': ", e.what());
    }
    return std::make_shared<SingleTaskModel>(single, backbone, rng);
  }
  MTINET_CHECK(c.task.empty(), "model config: key 'task' applies only to model 'single_task', not '", c.model, "'");
  if (c.model == "mtinet") return std::make_shared<MtiNet>(tasks, backbone, rng);
  if (c.model == "baseline") return std::make_shared<MultiTaskBaseline>(tasks, backbone, rng);
  if (c.model == "padnet") return std::make_shared<PadNet>(tasks, backbone, rng);
  MTINET_FAIL("model config: unknown value '", c.model, "' for key 'model' (expected mtinet, baseline, single_task, ",
              "padnet)");
}

std::shared_ptr<MultiTaskNetwork> build_model(const nlohmann::json& config) {
  return build_model(ModelConfig::from_json(config));
}

}  // namespace mtinet
