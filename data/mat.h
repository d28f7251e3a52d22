// A strict reader for MATLAB level-5 MAT-files (what MATLAB's save -v6/-v7 and scipy.io.savemat write), as the
// PASCAL-Context and PASCAL-Part annotations ship them.
//
// Supported: compressed variables (zlib), numeric arrays of every class (double, single, int8..uint64) in any
// storage type MATLAB picks (it stores e.g. a double array as miUINT8 when the values fit; values are converted to
// the array's class and must fit it exactly), logical arrays, char arrays (UTF-8, UTF-16, UTF-32, Latin-1 storage),
// struct arrays and cell arrays nested up to kMatMaxDepth levels, little- and big-endian files.
// Rejected with a message naming the file: sparse, complex, object and function-handle arrays, MATLAB v7.3 files
// (HDF5 inside; re-save them with save(..., '-v7')), level-4 files, and every malformed or truncated file.
//
// Layout: MATLAB stores arrays column-major; this reader returns them row-major in MATLAB's own dimension order, so
// a MATLAB H x W array has shape {H, W} and element (r, c) (0-based) sits at index r * W + c, as NumPy's C order
// would hold it. Shapes keep every dimension MATLAB wrote (at least two: a scalar is {1, 1}, a row vector {1, N}).
// Struct and cell elements are in the same row-major order; for vectors that equals MATLAB's linear index minus 1.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mtinet {

enum class MatClass { Double, Single, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Logical, Char,
                      Struct, Cell };

// MATLAB's name of the class: "double", "uint8", "logical", "char", "struct", "cell"...
const char* mat_class_name(MatClass c);

// Deeper nesting is rejected: the parser recurses once per level, and a crafted file must not exhaust the stack.
constexpr int kMatMaxDepth = 200;

struct MatValue {
  MatClass cls = MatClass::Double;
  std::vector<int64_t> shape{0, 0};  // MATLAB's dimensions, at least two; every buffer below is row-major in it
  // Numeric and logical arrays: numel values of the class's C type (double, float, int8_t, ..., uint64_t; logical
  // as uint8_t 0 or 1) in this machine's byte order. Read them with to_vector<T>() or scalar().
  std::vector<uint8_t> bytes;
  std::u16string chars;                  // char arrays: numel UTF-16 code units, as MATLAB holds them
  std::vector<std::string> field_names;  // struct arrays: in file order
  // Struct arrays: numel * field_names.size() values, element e's field f at e * field_names.size() + f.
  // Cell arrays: numel values.
  std::vector<MatValue> items;
  std::string file;  // the file and the path of this value in it ("anno.objects(2).mask"), for error messages
  std::string path;

  int64_t numel() const;
  bool is_numeric() const;  // numeric or logical
  bool is_struct() const { return cls == MatClass::Struct; }
  bool is_cell() const { return cls == MatClass::Cell; }
  bool is_char() const { return cls == MatClass::Char; }

  // Accessors: each throws mtinet::Error naming the file, the value's path and what was wrong (missing field, wrong
  // class, index out of range, a value that does not fit T).
  void expect_class(MatClass c) const;
  // Throws unless the value has exactly these dimensions (-1 matches any size).
  void expect_shape(const std::vector<int64_t>& dims) const;
  bool has_field(const std::string& name) const;
  const MatValue& field(const std::string& name) const;                 // a 1x1 struct's field
  const MatValue& field(int64_t element, const std::string& name) const;  // element (0-based, row-major) of a struct
  int64_t struct_size() const;                                          // numel of a struct array (throws otherwise)
  const MatValue& cell(int64_t index) const;                            // 0-based, row-major
  std::string str() const;                     // a char row/column vector (or empty) as UTF-8
  std::vector<std::string> char_rows() const;  // an H x W char matrix as H UTF-8 strings (none if it is empty)
  double scalar() const;                       // a numeric/logical array of one element
  // Every element converted to T (double, float, int8_t..uint64_t); throws if one does not fit T exactly
  // (e.g. 300 or 0.5 into uint8_t), naming its index.
  template <class T>
  std::vector<T> to_vector() const;
};

struct MatFile {
  std::string path;
  std::vector<std::string> names;  // variable names in file order
  std::map<std::string, MatValue> vars;

  bool has(const std::string& name) const { return vars.count(name) != 0; }
  const MatValue& var(const std::string& name) const;  // throws naming the file and listing its variables
};

// Reads every variable of a MAT-file; variables with empty names (MATLAB's hidden subsystem data) are skipped.
MatFile read_mat(const std::string& path);
// The same on bytes in memory; `source` names them in error messages (the fuzz target's entry point).
MatFile parse_mat(const uint8_t* data, size_t size, const std::string& source);

}  // namespace mtinet
