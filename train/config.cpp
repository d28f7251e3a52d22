#include "train/config.h"

#include <set>
#include <type_traits>

#include "core/error.h"
#include "data/pascal.h"
#include "train/config_checks.h"
#include "train/json_file.h"

namespace mtinet {

namespace {

using config::Range;

// "config" or "config FILE": how messages name the config being read.
std::string config_label(const std::string& file) { return file.empty() ? "config" : "config " + file; }

void require_top_level_object(const nlohmann::json& j, const std::string& label) {
  MTINET_CHECK(j.is_object(), label, ": expected a JSON object at the top level, got ", config::type_with_article(j));
}

// Reads the keys of one JSON object, remembering which were used so leftovers can be reported by name. Numbers go
// through the range checks of config_checks.h; get() takes only strings and booleans, so no numeric key skips them.
class Section {
 public:
  // label: "config" or "config FILE"; path: the section's key ("data"), empty at the top level.
  Section(const nlohmann::json& j, std::string label, std::string path)
      : j_(j), label_(std::move(label)), path_(std::move(path)) {
    if (path_.empty()) {
      require_top_level_object(j_, label_);
    } else {
      MTINET_CHECK(j_.is_object(), label_, ": '", path_, "' must be an object, got ", config::type_with_article(j_));
    }
  }
  template <class T>
  void get(const std::string& key, T& out) {
    constexpr bool boolean = std::is_same_v<T, bool>;
    static_assert(boolean || std::is_same_v<T, std::string>, "numbers are read with a range");
    const nlohmann::json* v = child(key);
    if (!v) return;
    MTINET_CHECK(boolean ? v->is_boolean() : v->is_string(), where(key), " has the wrong type: expected ",
                 boolean ? "true or false" : "a string", ", got ", v->dump());
    out = v->get<T>();
  }
  template <class T>
  void integer(const std::string& key, T& out, const Range& r) {
    if (const nlohmann::json* v = child(key)) out = config::integer<T>(*v, at(key), r);
  }
  void number(const std::string& key, double& out, const Range& r) {
    if (const nlohmann::json* v = child(key)) out = config::number(*v, at(key), r);
  }
  void numbers(const std::string& key, std::vector<double>& out, const Range& r) {
    if (const nlohmann::json* v = child(key)) out = config::numbers(*v, at(key), r);
  }
  const nlohmann::json* child(const std::string& key) {
    used_.insert(key);
    return j_.contains(key) ? &j_.at(key) : nullptr;
  }
  config::Key at(const std::string& key) const { return {label_, path_.empty() ? key : path_ + "." + key}; }
  // "config FILE: 'data.root'", to start a message about that key.
  std::string where(const std::string& key) const { return at(key).where(); }
  const std::string& label() const { return label_; }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      MTINET_CHECK(used_.count(it.key()), label_, ": unknown key '", at(it.key()).key, "'");
  }

 private:
  const nlohmann::json& j_;
  std::string label_, path_;
  std::set<std::string> used_;
};

// A draw given as a list key ("scales") or a range key ("scale_range"): the key a config sets replaces the other
// (a dataset's default included), and setting both is refused as ambiguous.
void parse_list_or_range(Section& s, const std::string& list_key, std::vector<double>& list,
                         const std::string& range_key, std::vector<double>& range, const Range& r) {
  bool has_list = s.child(list_key) != nullptr, has_range = s.child(range_key) != nullptr;
  MTINET_CHECK(!(has_list && has_range), s.where(list_key), " and '", s.at(range_key).key, "' are both set: a "
               "value is drawn from the list or uniformly from the range, so set one of them");
  if (has_list) {
    s.numbers(list_key, list, r);
    range.clear();
  }
  if (has_range) {
    std::vector<double> v;
    s.numbers(range_key, v, r);
    MTINET_CHECK(v.size() == 2 && v[0] <= v[1], s.where(range_key), " must be [lo, hi] with lo <= hi, got ",
                 s.child(range_key)->dump());
    range = v;
  }
}

void parse_data(const nlohmann::json& j, const std::string& label, DataConfig& d) {
  Section s(j, label, "data");
  std::string dataset = d.dataset;
  s.get("dataset", dataset);
  MTINET_CHECK(dataset == "nyud" || dataset == "pascal", s.where("dataset"), " must be 'nyud' or 'pascal' (got '",
               dataset, "')");
  d = data_defaults(dataset);  // the keys below override the dataset's recipe
  s.get("root", d.root);
  s.get("train_split", d.train_split);
  s.get("val_split", d.val_split);
  if (const nlohmann::json* v = s.child("size")) {
    MTINET_CHECK(v->is_array() && v->size() == 2, s.where("size"), " must be [height, width], got ", v->dump());
    std::vector<int64_t> size = config::integers<int64_t>(*v, s.at("size"), Range::at_least(1));
    d.height = size[0];
    d.width = size[1];
  }
  s.get("augment", d.augment);
  s.get("shuffle", d.shuffle);
  s.get("flip", d.flip);
  s.get("normalize", d.normalize);
  parse_list_or_range(s, "scales", d.scales, "scale_range", d.scale_range, Range::above(0));
  // Degrees; an empty list would leave nothing to draw.
  parse_list_or_range(s, "rotations", d.rotations, "rotation_range", d.rotation_range, Range::any());
  // One OS thread each: far more than the cores only exhausts the process's thread limit ("Resource temporarily
  // unavailable") and loads no faster.
  s.integer("threads", d.threads, Range::closed(1, 256));
  s.finish();
}

// {task: "results file" or {metrics}}: checked for shape here, read when a delta is computed
// (eval/single_task_results.h).
void parse_single_task_results(const nlohmann::json& j, const Section& s, nlohmann::json& out) {
  MTINET_CHECK(j.is_object(), s.where("single_task_results"), " must be an object {task: results file or metrics}, "
               "got ", config::type_with_article(j));
  for (auto it = j.begin(); it != j.end(); ++it)
    MTINET_CHECK(it.value().is_string() || it.value().is_object(), s.where("single_task_results." + it.key()),
                 " must be a results file name or an object of metrics, got ", config::type_with_article(it.value()));
  out = j;
}

void parse_optimizer(const nlohmann::json& j, const std::string& label, OptimizerConfig& o) {
  Section s(j, label, "optimizer");
  s.get("type", o.type);
  // Rates above 10 diverge on the first steps (the weights become inf or NaN) for every optimiser here; the
  // reference trains with 1e-4 (Adam) to 1e-2 (SGD).
  s.number("lr", o.lr, Range::above_up_to(0, 10));
  s.number("weight_decay", o.weight_decay, Range::at_least(0));  // a negative decay grows the weights
  // Momentum and the Adam betas are decay rates of running averages: at 1 nothing decays (the momentum buffer grows
  // without bound; Adam's bias correction 1 - beta^t divides by zero).
  s.number("momentum", o.momentum, Range::half_open(0, 1));
  s.get("nesterov", o.nesterov);
  s.number("beta1", o.beta1, Range::half_open(0, 1));
  s.number("beta2", o.beta2, Range::half_open(0, 1));
  s.number("eps", o.eps, Range::above(0));  // keeps Adam's denominator sqrt(v) + eps away from 0
  s.finish();
  MTINET_CHECK(o.type == "sgd" || o.type == "adam" || o.type == "adamw", s.where("type"), " must be sgd, adam or "
               "adamw (got '", o.type, "')");
}

void parse_schedule(const nlohmann::json& j, const std::string& label, ScheduleConfig& c) {
  Section s(j, label, "schedule");
  s.get("kind", c.kind);
  s.get("per_iteration", c.per_iteration);
  s.number("power", c.power, Range::above(0));  // lr (1 - t)^power: a negative power grows the rate without bound
  s.integer("warmup_iters", c.warmup_iters, Range::at_least(0));
  s.finish();
  MTINET_CHECK(c.kind == "poly" || c.kind == "constant", s.where("kind"), " must be poly or constant (got '", c.kind,
               "')");
}

void parse_checkpoint(const nlohmann::json& j, const std::string& label, CheckpointConfig& c) {
  Section s(j, label, "checkpoint");
  s.get("dir", c.dir);
  s.integer("every_epochs", c.every_epochs, Range::at_least(1));  // the trainer saves when epochs % every_epochs == 0
  s.integer("keep_last", c.keep_last, Range::at_least(1));  // 0 would delete the checkpoint just written
  s.finish();
}

void parse_log(const nlohmann::json& j, const std::string& label, LogConfig& c) {
  Section s(j, label, "log");
  s.get("tensorboard", c.tensorboard);
  s.finish();
}

void parse_distributed(const nlohmann::json& j, const std::string& label, DistributedConfig& c) {
  Section s(j, label, "distributed");
  s.get("overlap", c.overlap);
  s.number("bucket_mib", c.bucket_mib, Range::above_up_to(0, 1024));  // MPI counts are ints: at most 1 GiB
  s.finish();
}

}  // namespace

DataConfig data_defaults(const std::string& dataset) {
  DataConfig d;
  d.dataset = dataset;
  if (dataset == "nyud") return d;
  MTINET_CHECK(dataset == "pascal", "unknown dataset '", dataset, "' (expected nyud or pascal)");
  AugmentConfig a = pascal_augment_config();  // the data side's definition of the reference's recipe
  d.height = a.out_h;
  d.width = a.out_w;
  d.flip = a.flip;
  d.scale_range = a.scale_range;
  d.rotation_range = a.rotation_range;
  return d;
}

AugmentConfig augment_config(const DataConfig& d) {
  AugmentConfig a;
  a.flip = d.flip;
  a.scales = d.scales;
  a.scale_range = d.scale_range;
  a.rotations = d.rotations;
  a.rotation_range = d.rotation_range;
  a.out_h = d.height;
  a.out_w = d.width;
  return a;
}

TrainConfig parse_train_config(const nlohmann::json& j, const std::string& file) {
  TrainConfig c;
  Section s(j, config_label(file), "");
  if (const nlohmann::json* m = s.child("model")) {
    try {
      c.model = ModelConfig::from_json(*m);
    } catch (const Error& e) {
      MTINET_FAIL(s.label(), ": in 'model': ", e.what());
    }
  }
  if (const nlohmann::json* d = s.child("data")) parse_data(*d, s.label(), c.data);
  if (const nlohmann::json* o = s.child("optimizer")) parse_optimizer(*o, s.label(), c.optimizer);
  if (const nlohmann::json* o = s.child("schedule")) parse_schedule(*o, s.label(), c.schedule);
  if (const nlohmann::json* o = s.child("checkpoint")) parse_checkpoint(*o, s.label(), c.checkpoint);
  if (const nlohmann::json* o = s.child("log")) parse_log(*o, s.label(), c.log);
  if (const nlohmann::json* o = s.child("distributed")) parse_distributed(*o, s.label(), c.distributed);
  // The loss section's keys depend on the model's tasks; make_balancer checks them when the trainer starts.
  if (const nlohmann::json* l = s.child("loss")) {
    MTINET_CHECK(l->is_object(), s.where("loss"), " must be an object, got ", config::type_with_article(*l));
    c.loss = *l;
  }
  s.integer("epochs", c.epochs, Range::at_least(1));
  s.integer("batch_size", c.batch_size, Range::at_least(1));
  s.integer("grad_accumulation", c.grad_accumulation, Range::at_least(1));
  s.get("sync_bn", c.sync_bn);
  s.integer("eval_every", c.eval_every, Range::at_least(0));  // 0 = only after the last epoch
  s.integer("precise_bn_batches", c.precise_bn_batches, Range::at_least(0));  // 0 = keep the running statistics
  s.integer("max_steps", c.max_steps, Range::at_least(0));  // 0 = no limit
  s.number("clip_grad_norm", c.clip_grad_norm, Range::at_least(0));  // 0 = off
  s.integer("threads", c.threads, Range::closed(0, 1024));  // 0 = every core the process may use
  s.integer("seed", c.seed, Range::at_least(0));
  s.get("device", c.device);
  s.get("dtype", c.dtype);
  s.get("init_weights", c.init_weights);
  s.get("backbone_weights", c.backbone_weights);
  if (const nlohmann::json* r = s.child("single_task_results")) parse_single_task_results(*r, s, c.single_task_results);
  s.finish();
  MTINET_CHECK(c.device == "auto" || c.device == "cpu" || c.device == "cuda", s.where("device"), " must be auto, "
               "cpu or cuda (got '", c.device, "')");
  MTINET_CHECK(c.dtype == "f32" || c.dtype == "f64", s.where("dtype"), " must be f32 or f64 (got '", c.dtype, "')");
  MTINET_CHECK(c.data.height % 32 == 0 && c.data.width % 32 == 0, s.where("data.size"), " ", c.data.height, "x",
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
  nlohmann::json j = read_json_file(path, "config");
  require_top_level_object(j, config_label(path));  // before the overrides, which index it by key
  for (const std::string& o : overrides) apply_override(j, o);
  return parse_train_config(j, path);
}

}  // namespace mtinet
