// Reading a JSON file with errors a user can act on: a missing file or a folder is named as such, and a syntax error
// gives the line and column where it is (nlohmann reports a byte offset).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mtinet {

// The JSON in `path` (comments allowed). `what` starts every error message, e.g. "config" gives
// "config runs/x.json: invalid JSON at line 3, column 6: syntax error ...".
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// 1-based line and column of the character at 0-based byte offset `byte` in `text`.
struct TextPosition {
  size_t line = 1, column = 1;
};
TextPosition text_position(const std::string& text, size_t byte);

}  // namespace mtinet
