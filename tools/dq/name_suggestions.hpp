// "Did you mean ...?" for a name that is not there: the known names closest to it by edit
// distance (insertions, deletions, substitutions and swaps of neighbours each count one).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dq::tool {

// Edit distance with adjacent transpositions (optimal string alignment).
size_t edit_distance(std::string_view a, std::string_view b);

// Up to `max_count` names of `known` close enough to `wanted` to be a typo of it (distance at
// most a third of its length rounded up, at least 1 and at most 4) and tied for the closest,
// in `known` order.
std::vector<std::string> closest_names(std::string_view wanted,
                                       const std::vector<std::string> &known,
                                       size_t max_count = 3);

}  // namespace dq::tool
