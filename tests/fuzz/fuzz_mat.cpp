// Fuzz target: the MATLAB level-5 MAT-file reader on an in-memory file (parse_mat: header, plain and zlib-compressed
// variables, numeric/char/struct/cell arrays), then the accessors the PASCAL loaders call on whatever it returns
// (str, char_rows, scalar, to_vector), each of which must succeed or throw mtinet::Error.
#include <vector>

#include "core/error.h"
#include "data/mat.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

namespace {

// Calls every accessor that reads a value's data; a wrong class or shape must be an Error, nothing worse.
void read_value(const MatValue& v) {
  auto attempt = [](auto&& fn) {
    try {
      fn();
    } catch (const Error&) {
    }
  };
  attempt([&] { v.str(); });
  attempt([&] { v.char_rows(); });
  attempt([&] { v.scalar(); });
  attempt([&] { v.to_vector<double>(); });
  attempt([&] { v.to_vector<uint8_t>(); });
  attempt([&] { v.to_vector<int64_t>(); });
  attempt([&] { v.struct_size(); });
  attempt([&] { v.cell(0); });
  for (const std::string& f : v.field_names) attempt([&] { v.field(0, f); });
}

}  // namespace

int fuzz_mat(const uint8_t* data, size_t size) {
  try {
    MatFile file = parse_mat(data, size, "fuzz.mat");
    // Iterative walk over every nested value: structs and cells may nest up to kMatMaxDepth levels.
    std::vector<const MatValue*> todo;
    for (const auto& [name, v] : file.vars) todo.push_back(&v);
    while (!todo.empty()) {
      const MatValue* v = todo.back();
      todo.pop_back();
      read_value(*v);
      for (const MatValue& item : v->items) todo.push_back(&item);
    }
  } catch (const Error&) {
    // A rejected file is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_mat)
