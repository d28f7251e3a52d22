#include "train/metrics_log.h"

#include <chrono>
#include <filesystem>

#include "train/log_sink.h"
#include "train/resume.h"
#include "train/tensorboard_reader.h"

namespace mtinet {

namespace {

const char* kWhat = "the metrics log";

void add(std::vector<Scalar>& out, const std::string& tag, const nlohmann::json& v) {
  if (v.is_number()) out.emplace_back(tag, v.get<float>());
}

// counts: whether integers go too (evaluations hold pixel and image counts, which are not curves worth plotting).
void add_each(std::vector<Scalar>& out, const std::string& prefix, const nlohmann::json& values, bool counts = true) {
  if (!values.is_object()) return;
  for (const auto& [name, v] : values.items())
    if (counts || !v.is_number_integer()) add(out, prefix + name, v);
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::vector<Scalar> tensorboard_scalars(const nlohmann::json& record) {
  std::vector<Scalar> out;
  if (!record.is_object()) return out;
  if (record.contains("loss")) add(out, "loss/total", record["loss"]);
  if (record.contains("tasks")) add_each(out, "loss/", record["tasks"]);
  if (record.contains("weights")) add_each(out, "loss_weight/", record["weights"]);
  if (record.contains("lr")) add(out, "lr", record["lr"]);
  if (record.contains("images_per_s")) add(out, "images_per_s", record["images_per_s"]);
  if (record.contains("eval") && record["eval"].is_object())
    for (const auto& [task, metrics] : record["eval"].items()) add_each(out, "eval/" + task + "/", metrics, false);
  return out;
}

MetricsLog::MetricsLog(const std::string& dir, bool tensorboard, AppendLog::Report report)
    : MetricsLog(std::make_unique<FileSink>(dir + "/metrics.jsonl", kWhat), nullptr, report) {
  if (tensorboard) {
    events_ = TensorBoardWriter::in_folder(dir, report);
    events_file_ = std::filesystem::path(events_->log().name()).filename().string();
  }
}

MetricsLog::MetricsLog(std::unique_ptr<LogSink> jsonl, std::unique_ptr<LogSink> events, AppendLog::Report report)
    : path_(jsonl ? jsonl->name() : "") {
  jsonl_ = std::make_unique<AppendLog>(std::move(jsonl), kWhat, AppendLog::kDefaultQueueLimit, report);
  if (events) {
    events_file_ = std::filesystem::path(events->name()).filename().string();
    events_ = std::make_unique<TensorBoardWriter>(std::move(events), report);
  }
}

void MetricsLog::write(const nlohmann::json& record, int64_t step) {
  jsonl_->append(record.dump() + "\n");
  if (events_) {
    int64_t at = record.contains("step") && record["step"].is_number_integer() ? record["step"].get<int64_t>() : step;
    events_->scalars(at, unix_seconds(), tensorboard_scalars(record));
  }
}

int64_t MetricsLog::drop_records_after(int64_t step, int64_t epoch) {
  jsonl_->retry();  // what is held belongs before the cut
  int64_t dropped = drop_log_records_after(path_, step, epoch);
  // The rewrite replaced the file under the open descriptor, whose appends would go to the unlinked old one.
  if (dropped > 0) jsonl_->reopen(std::make_unique<FileSink>(path_, kWhat));
  if (events_) {
    std::string dir = std::filesystem::path(path_).parent_path().string();
    drop_events_after(dir.empty() ? "." : dir, step, events_file_);
  }
  return dropped;
}

int64_t MetricsLog::finish() {
  int64_t lost = jsonl_->finish();
  if (events_) lost += events_->log().finish();
  return lost;
}

}  // namespace mtinet
