// Reading TensorBoard event files back (train/tensorboard_writer.h has the format): the records with both CRCs
// checked and the Event fields we write decoded. Used to trim old event files when a run resumes, and by the tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/tensorboard_writer.h"

namespace mtinet {

struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;     // "" when absent
  std::vector<Scalar> scalars;  // the summary's simple values, in order
};

// The data of every TFRecord in the file. A length or data CRC that does not match, or a record cut short, throws
// naming the file, the record's byte offset and what is wrong -- except that with `allow_cut_tail` a last record cut
// short (a kill mid-write) ends the list, and *cut_tail is set.
std::vector<std::string> read_tfrecords(const std::string& path, bool allow_cut_tail = false,
                                        bool* cut_tail = nullptr);
// Decodes an Event; fields we do not write are skipped. Throws on malformed protobuf.
Event decode_event(const std::string& data);
std::vector<Event> read_event_file(const std::string& path);

// Rewrites (atomically) every event file in `dir` except `keep` (a file name) without the events after `step`,
// which a run resumed at `step` writes again, so TensorBoard draws no step twice; a record cut short at the end
// goes too. Returns the events dropped over all files; files with none to drop are left untouched, and so are files
// that do not read back (corrupt: a warning on stderr names them), so that old curves never stop a resume.
int64_t drop_events_after(const std::string& dir, int64_t step, const std::string& keep = "");

}  // namespace mtinet
