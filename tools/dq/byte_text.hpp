// Byte counts for people: "2.12 GB", "34.50 MB", "4.1 kB", "12 B" (decimal units).
#pragma once

#include <cstdint>
#include <string>

namespace dq::tool {

std::string human_bytes(uint64_t bytes);

}  // namespace dq::tool
