// Parsing one metadata value (scalar, string, or array of any type, nested arrays included).
#pragma once

#include <cstdint>

#include "gguf/cursor.hpp"
#include "gguf/limits.hpp"
#include "gguf/parse_budget.hpp"
#include "gguf/value.hpp"

namespace dq::gguf {

// Reads a value of GGUF type `type` (already read from the file at byte `type_pos`).
// Every length is checked against the bytes left, and the elements of arrays of strings or
// arrays are charged to `budget`, before anything is allocated.
dq_value parse_value(Cursor &cur, uint32_t type, uint64_t type_pos, const Limits &limits,
                     ParseBudget &budget, uint32_t depth = 0);

}  // namespace dq::gguf
