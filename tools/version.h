// The program's version, printed by `mtinet --version` and `mtinet info`.
#pragma once

namespace mtinet {

inline constexpr const char* kVersion = "0.3.0-dev";

}  // namespace mtinet
