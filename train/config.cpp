#include "train/config.h"

#include <fstream>
#include <set>

#include "core/error.h"

namespace mtinet {

namespace {

// Reads the keys of one JSON object, remembering which were used so leftovers can be reported by name.
class Section {
 public:
  Section(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    MTINET_CHECK(j_.is_object(), "config: '", path_.empty() ? "<root>" : path_, "' must be an object");
  }
  template <class T>
  void get(const std::string& key, T& out) {
    used_.insert(key);
    if (!j_.contains(key)) return;
    try {
      out = j_.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      MTINET_FAIL("config: '", name(key), "' has the wrong type: ", j_.at(key).dump());
    }
  }
  const nlohmann::json* child(const std::string& key) {
    used_.insert(key);
    return j_.contains(key) ? &j_.at(key) : nullptr;
  }
  std::string name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      MTINET_CHECK(used_.count(it.key()), "config: unknown key '", name(it.key()), "'");
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string> used_;
};

void parse_data(const nlohmann::json& j, DataConfig& d) {
  Section s(j, "data");
  s.get("dataset", d.dataset);
  s.get("root", d.root);
  s.get("train_split", d.train_split);
  s.get("val_split", d.val_split);
  std::vector<int64_t> size = {d.height, d.width};
  s.get("size", size);
  MTINET_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0, "config: 'data.size' must be [height, width]");
  d.height = size[0];
  d.width = size[1];
  s.get("augment", d.augment);
  s.get("shuffle", d.shuffle);
  s.get("flip", d.flip);
  s.get("normalize", d.normalize);
  s.get("scales", d.scales);
  s.get("rotations", d.rotations);
  s.get("threads", d.threads);
  s.finish();
  MTINET_CHECK(d.dataset == "nyud", "config: 'data.dataset' must be 'nyud' (got '", d.dataset, "')");
}

void parse_optimizer(const nlohmann::json& j, OptimizerConfig& o) {
  Section s(j, "optimizer");
  s.get("type", o.type);
  s.get("lr", o.lr);
  s.get("weight_decay", o.weight_decay);
  s.get("momentum", o.momentum);
  s.get("nesterov", o.nesterov);
  s.get("beta1", o.beta1);
  s.get("beta2", o.beta2);
  s.get("eps", o.eps);
  s.finish();
  MTINET_CHECK(o.type == "sgd" || o.type == "adam" || o.type == "adamw", "config: 'optimizer.type' must be sgd, "
               "adam or adamw (got '", o.type, "')");
}

void parse_schedule(const nlohmann::json& j, ScheduleConfig& c) {
  Section s(j, "schedule");
  s.get("kind", c.kind);
  s.get("per_iteration", c.per_iteration);
  s.get("power", c.power);
  s.get("warmup_iters", c.warmup_iters);
  s.finish();
  MTINET_CHECK(c.kind == "poly" || c.kind == "constant", "config: 'schedule.kind' must be poly or constant");
}

void parse_checkpoint(const nlohmann::json& j, CheckpointConfig& c) {
  Section s(j, "checkpoint");
  s.get("dir", c.dir);
  s.get("every_epochs", c.every_epochs);
  s.get("keep_last", c.keep_last);
  s.finish();
  MTINET_CHECK(c.keep_last >= 1, "config: 'checkpoint.keep_last' must be at least 1");
}

}  // namespace

TrainConfig parse_train_config(const nlohmann::json& j) {
  TrainConfig c;
  Section s(j, "");
  if (const nlohmann::json* m = s.child("model")) {
    try {
      c.model = ModelConfig::from_json(*m);
    } catch (const Error& e) {
      MTINET_FAIL("config: in 'model': ", e.what());
    }
  }
  if (const nlohmann::json* d = s.child("data")) parse_data(*d, c.data);
  if (const nlohmann::json* o = s.child("optimizer")) parse_optimizer(*o, c.optimizer);
  if (const nlohmann::json* o = s.child("schedule")) parse_schedule(*o, c.schedule);
  if (const nlohmann::json* o = s.child("checkpoint")) parse_checkpoint(*o, c.checkpoint);
  if (const nlohmann::json* l = s.child("loss")) {
    MTINET_CHECK(l->is_object(), "config: 'loss' must be an object");
    c.loss = *l;
  }
  s.get("epochs", c.epochs);
  s.get("batch_size", c.batch_size);
  s.get("eval_every", c.eval_every);
  s.get("precise_bn_batches", c.precise_bn_batches);
  s.get("max_steps", c.max_steps);
  s.get("clip_grad_norm", c.clip_grad_norm);
  s.get("seed", c.seed);
  s.get("device", c.device);
  s.get("dtype", c.dtype);
  s.get("init_weights", c.init_weights);
  s.get("backbone_weights", c.backbone_weights);
  s.finish();
  MTINET_CHECK(c.epochs > 0 && c.batch_size > 0, "config: 'epochs' and 'batch_size' must be positive");
  MTINET_CHECK(c.device == "auto" || c.device == "cpu" || c.device == "cuda", "config: 'device' must be auto, cpu "
               "or cuda (got '", c.device, "')");
  MTINET_CHECK(c.dtype == "f32" || c.dtype == "f64", "config: 'dtype' must be f32 or f64 (got '", c.dtype, "')");
  MTINET_CHECK(c.data.height % 32 == 0 && c.data.width % 32 == 0, "config: 'data.size' ", c.data.height, "x",
               c.data.width, " must be divisible by 32 (the network downsamples by 32)");
  c.source = j;
  return c;
}

void apply_override(nlohmann::json& j, const std::string& assignment) {
  size_t eq = assignment.find('=');
  MTINET_CHECK(eq != std::string::npos && eq > 0, "--set expects key=value, got '", assignment, "'");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  nlohmann::json* node = &j;
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    MTINET_CHECK(!part.empty(), "--set: bad key '", key, "'");
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    if (!node->contains(part)) (*node)[part] = nlohmann::json::object();
    node = &(*node)[part];
    MTINET_CHECK(node->is_object(), "--set: '", key.substr(0, dot), "' is not an object");
    start = dot + 1;
  }
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream f(path);
  MTINET_CHECK(f.good(), "config file '", path, "' not found");
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false, /*ignore_comments=*/true);
  MTINET_CHECK(!j.is_discarded(), "config file '", path, "' is not valid JSON");
  for (const std::string& o : overrides) apply_override(j, o);
  try {
    return parse_train_config(j);
  } catch (const Error& e) {
    MTINET_FAIL("in '", path, "': ", e.what());
  }
}

}  // namespace mtinet
