// Split lists (data/dataset_files.h): ids are trimmed of CR and trailing spaces, blank lines skipped, and an id that
// could not be a file name of the dataset (a path separator, '..', control bytes, over-long) is refused naming the
// file and the line, before any file named after it is opened.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "data/dataset_files.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;

namespace {
std::string split_file(const std::string& bytes) {
  std::string path = test::fresh_dir("mtinet_split_ids") + "/val.txt";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}
}  // namespace

TEST_CASE("split ids: trimmed, blank lines skipped, and ids that are no file name refused naming the line") {
  std::string ok = split_file("000001 \r\n\r\n2008_000002\r\n");
  CHECK(read_split_ids(ok, "NYUD", "hint") == std::vector<std::string>{"000001", "2008_000002"});
  std::string traversal = split_file("000001\n../../etc/passwd\n");
  CHECK(test::error_message([&] { read_split_ids(traversal, "NYUD", "hint"); })
            .find("split file '" + traversal + "', line 2: the id '../../etc/passwd' holds a path separator") !=
        std::string::npos);
  std::string dots = split_file("..\n");
  CHECK(test::error_message([&] { read_split_ids(dots, "PASCAL", "hint"); }).find("line 1: the id '..' names a folder") !=
        std::string::npos);
  std::string control = split_file(std::string("00\x01") + "1\n");
  CHECK(test::error_message([&] { read_split_ids(control, "NYUD", "hint"); }).find("control character (byte 1)") !=
        std::string::npos);
  std::string longer = split_file(std::string(201, 'a') + "\n");
  CHECK(test::error_message([&] { read_split_ids(longer, "NYUD", "hint"); }).find("201 bytes") != std::string::npos);
  CHECK(read_split_ids(split_file(std::string(200, 'a')), "NYUD", "hint").size() == 1);
}
