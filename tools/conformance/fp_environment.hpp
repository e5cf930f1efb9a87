// The floating-point control state a plugin must leave as it found it (rules P9, P16):
// MXCSR's control bits on x86 (rounding, flush-to-zero, denormals-are-zero, exception
// masks; not the sticky exception flags, which any arithmetic sets), FPCR on Arm.
#pragma once

#include <cstdint>
#include <string>

namespace dq::conformance {

// The calling thread's control state; 0 on architectures the suite does not know.
uint64_t read_fp_control();
void write_fp_control(uint64_t value);

// "MXCSR 0x1f80 -> 0x9fc0 (flush-to-zero on, denormals-are-zero on)".
std::string describe_fp_change(uint64_t before, uint64_t after);

// The state of the child process before it loaded anything (set once, at its start).
void remember_initial_fp_control();
uint64_t initial_fp_control();

}  // namespace dq::conformance
