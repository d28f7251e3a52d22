// TensorBoard event files (train/tensorboard_writer.h): CRC-32C against the standard check value, the TFRecord
// framing and the Event protobuf against bytes worked out by hand from the wire format, a file read back with both
// CRCs checked, corruption and truncation named, and a training run's scalars equal to its metrics.jsonl.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "scratch.h"
#include "tiny_training.h"
#include "train/crc32c.h"
#include "train/metrics_log.h"
#include "train/tensorboard_reader.h"
#include "train/tensorboard_writer.h"

using namespace mtinet;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(e.path().string());
  return out;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(char(x));
  return s;
}

}  // namespace

TEST_CASE("tensorboard: crc32c check values") {
  const char* digits = "123456789";
  CHECK(crc32c(digits, 9) == 0xE3069283u);
  std::string zeros(32, '\0');
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);  // RFC 3720, B.4
  CHECK(masked_crc32c(digits, 9) == 0xC78AB0E5u);  // ((c >> 15) | (c << 17)) + 0xa282ead8
}

TEST_CASE("tensorboard: an Event's protobuf bytes, worked out by hand") {
  // wall_time 1.5 (fixed64 0x3FF8000000000000), step 3 (varint), summary { value { tag "a" simple_value 1.0f } }
  std::string expected = bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 0x03, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01,
                                'a', 0x15, 0x00, 0x00, 0x80, 0x3F});
  CHECK(encode_event(1.5, 3, "", {{"a", 1.0f}}) == expected);
  std::string first = encode_event(0.0, 0, "brain.Event:2", {});
  CHECK(first.substr(9) == bytes({0x10, 0x00, 0x1A, 13}) + "brain.Event:2");
  CHECK(encode_event(0.0, 300, "", {}).substr(9) == bytes({0x10, 0xAC, 0x02}));  // 300 = 0b10_0101100
}

TEST_CASE("tensorboard: TFRecord framing") {
  std::string data = "123456789";
  std::string r = frame_record(data);
  REQUIRE(r.size() == 8 + 4 + 9 + 4);
  CHECK(r.substr(0, 8) == bytes({9, 0, 0, 0, 0, 0, 0, 0}));
  uint32_t len_crc, data_crc;
  std::memcpy(&len_crc, r.data() + 8, 4);
  std::memcpy(&data_crc, r.data() + 21, 4);
  CHECK(len_crc == masked_crc32c(r.data(), 8));
  CHECK(r.substr(12, 9) == data);
  CHECK(data_crc == 0xC78AB0E5u);
}

TEST_CASE("tensorboard: an event file reads back, and corruption or a cut names the file and the byte") {
  std::string dir = test::fresh_dir("mtinet_tb_roundtrip");
  std::string path;
  double before = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  {
    auto w = TensorBoardWriter::in_folder(dir);
    w->scalars(1, 1000.25, {{"loss/total", 2.5f}, {"lr", 1e-4f}});
    w->scalars(2, 1001.5, {{"loss/total", 1.75f}});
    w->scalars(3, 1002.0, {});  // no scalars, no event
    path = w->log().name();
    CHECK(w->log().finish() == 0);
  }
  CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
  std::vector<Event> e = read_event_file(path);
  REQUIRE(e.size() == 3);
  CHECK(e[0].file_version == "brain.Event:2");
  CHECK(e[0].step == 0);
  CHECK(e[0].wall_time >= before);
  CHECK(e[0].scalars.empty());
  CHECK(e[1].step == 1);
  CHECK(e[1].wall_time == 1000.25);
  REQUIRE(e[1].scalars.size() == 2);
  CHECK(e[1].scalars[0] == Scalar("loss/total", 2.5f));
  CHECK(e[1].scalars[1] == Scalar("lr", 1e-4f));
  CHECK(e[2].step == 2);
  CHECK(e[2].scalars == std::vector<Scalar>{{"loss/total", 1.75f}});

  std::string corrupt = dir + "/corrupt.tfevents";
  fs::copy_file(path, corrupt);
  size_t second = 16 + read_tfrecords(path)[0].size();  // byte offset of the second record
  {
    std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(second + 14));
    f.put('\x7f');  // inside the second record's data
  }
  CHECK_THROWS_WITH_AS(read_event_file(corrupt),
                       doctest::Contains(("event file '" + corrupt + "': the record at byte " + std::to_string(second) +
                                          " has data whose CRC does not match").c_str()),
                       Error);
  std::string cut = dir + "/cut.tfevents";
  fs::copy_file(path, cut);
  fs::resize_file(cut, fs::file_size(cut) - 3);
  CHECK_THROWS_WITH_AS(read_tfrecords(cut), doctest::Contains("is cut short"), Error);
  bool was_cut = false;
  CHECK(read_tfrecords(cut, true, &was_cut).size() == 2);
  CHECK(was_cut);
}

TEST_CASE("tensorboard: the scalars of metrics.jsonl records") {
  nlohmann::json step = {{"step", 4}, {"epoch", 0}, {"lr", 0.5}, {"loss", 2.0}, {"tasks", {{"depth", 0.75},
                        {"semseg", 1.25}}}, {"weights", {{"depth", 1.0}, {"semseg", 1.0}}}, {"images_per_s", 12.5}};
  std::vector<Scalar> s = tensorboard_scalars(step);
  std::vector<Scalar> expected = {{"loss/total", 2.0f},       {"loss/depth", 0.75f},         {"loss/semseg", 1.25f},
                                  {"loss_weight/depth", 1.0f}, {"loss_weight/semseg", 1.0f}, {"lr", 0.5f},
                                  {"images_per_s", 12.5f}};
  CHECK(s == expected);
  nlohmann::json eval = {{"epoch", 2}, {"eval", {{"semseg", {{"mIoU", 0.25}, {"jaccards_all_categs", {0.1, 0.4}},
                                                              {"n_valid", 8192}}},
                                                  {"depth", {{"rmse", 0.5}}}}}};
  CHECK(tensorboard_scalars(eval) == std::vector<Scalar>{{"eval/depth/rmse", 0.5f}, {"eval/semseg/mIoU", 0.25f}});
  CHECK(tensorboard_scalars({{"step", 3}, {"precise_bn_batches", 4}}).empty());
}

TEST_CASE("tensorboard: a training run's event file holds the losses metrics.jsonl holds, none with log.tensorboard=false") {
  std::string dir = test::fresh_dir("mtinet_tb_train");
  TrainConfig cfg = test::tiny_config(dir);
  cfg.max_steps = 3;
  TrainSummary summary = Trainer(cfg).run();
  CHECK(summary.log_records_lost == 0);
  std::vector<std::string> files = event_files(dir);
  REQUIRE(files.size() == 1);
  std::vector<nlohmann::json> steps = test::step_records(dir);
  REQUIRE(steps.size() == 3);
  std::map<int64_t, std::map<std::string, float>> by_step;
  for (const Event& e : read_event_file(files[0]))
    for (const Scalar& s : e.scalars) by_step[e.step][s.first] = s.second;
  for (const nlohmann::json& r : steps) {
    int64_t at = r.at("step").get<int64_t>();
    INFO("step " << at);
    CHECK(by_step[at].at("loss/total") == r.at("loss").get<float>());
    CHECK(by_step[at].at("lr") == r.at("lr").get<float>());
    CHECK(by_step[at].at("images_per_s") == r.at("images_per_s").get<float>());
    for (const auto& [task, v] : r.at("tasks").items()) CHECK(by_step[at].at("loss/" + task) == v.get<float>());
  }
  CHECK(by_step[3].count("eval/semseg/mIoU") == 1);  // the evaluation after max_steps, at step 3

  std::string off = test::fresh_dir("mtinet_tb_off");
  TrainConfig no_tb = test::tiny_config(off);
  no_tb.max_steps = 1;
  CHECK(parse_train_config({{"log", {{"tensorboard", false}}}}).log.tensorboard == false);
  no_tb.log.tensorboard = false;
  Trainer(no_tb).run();
  CHECK(event_files(off).empty());
  CHECK(fs::exists(off + "/metrics.jsonl"));
  CHECK_THROWS_WITH_AS(parse_train_config({{"log", {{"tensorboard", 1}}}}),
                       doctest::Contains("'log.tensorboard' has the wrong type: expected true or false, got 1"), Error);
  CHECK_THROWS_WITH_AS(parse_train_config({{"log", {{"tensorbord", true}}}}),
                       doctest::Contains("unknown key 'log.tensorbord'"), Error);
}
