#include "train/json_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace mtinet {

TextPosition text_position(const std::string& text, size_t byte) {
  TextPosition p;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

namespace {

std::string read_text(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  MTINET_CHECK(fs::exists(st), what, " ", path, ": no such file");
  MTINET_CHECK(!fs::is_directory(st), what, " ", path, ": is a directory, not a JSON file");
  std::ifstream f(path, std::ios::binary);
  MTINET_CHECK(f.good(), what, " ", path, ": cannot be read: ", std::strerror(errno));
  std::ostringstream text;
  text << f.rdbuf();
  MTINET_CHECK(!f.bad(), what, " ", path, ": reading failed: ", std::strerror(errno));
  return text.str();
}

// nlohmann's description without its "[json.exception...] parse error at line L, column C: " prefix, which names
// no file and which the caller replaces with its own position.
std::string parse_error_detail(const nlohmann::json::parse_error& e) {
  std::string s = e.what();
  size_t at = s.find("parse error");
  size_t colon = at == std::string::npos ? std::string::npos : s.find(": ", at);
  return colon == std::string::npos ? s : s.substr(colon + 2);
}

}  // namespace

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::string text = read_text(path, what);
  // A config is a few levels deep. nlohmann parses any depth, but dumping a value nested ~100k levels (as error
  // messages do) overflows the stack: found by fuzzing (tests/fuzz/regressions/config).
  constexpr int kMaxDepth = 64;
  int too_deep_at = -1;
  nlohmann::json::parser_callback_t depth_guard = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxDepth && too_deep_at < 0) too_deep_at = depth;
    return too_deep_at < 0;  // once too deep, discard everything: the result is refused below
  };
  try {
    nlohmann::json j = nlohmann::json::parse(text, depth_guard, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    MTINET_CHECK(too_deep_at < 0, what, " ", path, ": JSON nested more than ", kMaxDepth, " levels deep");
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    TextPosition p = text_position(text, e.byte > 0 ? e.byte - 1 : 0);
    MTINET_FAIL(what, " ", path, ": invalid JSON at line ", p.line, ", column ", p.column, ": ", parse_error_detail(e));
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but a value nlohmann cannot hold, e.g. "number overflow parsing '1e400'".
    MTINET_FAIL(what, " ", path, ": invalid JSON: ", e.what());
  }
}

}  // namespace mtinet
