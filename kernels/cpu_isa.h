// Which x86-64 vector extension the CPU kernels with hand-picked variants use (today the f32 cross-entropy rows,
// kernels/losses/losses_cpu.cpp). mtinet is built for baseline x86-64, so it runs on any such CPU; a kernel that
// gains from wider vectors is compiled once per level with GCC's target attribute and picks its variant per call.
// The choice is the best level the CPU supports, lowered by MTINET_CPU_ISA=baseline|avx2|avx512 or by
// set_cpu_isa(), so that tests run every variant on one machine.
#pragma once

namespace mtinet::kernels {

enum class CpuIsa { Baseline = 0, Avx2 = 1, Avx512 = 2 };

CpuIsa cpu_isa();                  // the level in use
CpuIsa best_supported_cpu_isa();   // what this CPU can run
void set_cpu_isa(CpuIsa isa);      // clamped to best_supported_cpu_isa()
const char* cpu_isa_name(CpuIsa isa);  // "baseline", "avx2", "avx512"

}  // namespace mtinet::kernels
