// Random tensors for the value checks: random bytes (every grid index, sign and sub-scale a
// field can hold) with finite scales: +0, -0, subnormal and normal f16, sane E8M0 exponents.
// Plain float types (F32, F16, BF16) get random non-NaN bit patterns, including +-inf.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dq::conformance {

using Rng = std::mt19937_64;

// A generator seeded from the check name and the run's seed (reproducible per check).
Rng rng_for(const std::string &check_name, uint64_t seed);

uint16_t random_finite_f16(Rng &rng);
uint32_t random_finite_f32(Rng &rng);
uint8_t random_sane_e8m0(Rng &rng);

// Bytes of n_blocks random blocks of `type` (block size from the type table).
std::vector<uint8_t> random_blocks(int32_t type, int64_t n_blocks, Rng &rng);

}  // namespace dq::conformance
