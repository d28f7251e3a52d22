#include "core/dtype.h"

#include "core/error.h"

namespace mtinet {

size_t dtype_size(DType dt) {
  switch (dt) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::U8: return 1;
    case DType::BF16: return 2;
    case DType::F16: return 2;
  }
  MTINET_FAIL("unknown dtype ", int(dt));
}

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
  }
  return "?";
}

bool is_floating(DType dt) { return dt == DType::F32 || dt == DType::F64 || dt == DType::BF16 || dt == DType::F16; }

}  // namespace mtinet
