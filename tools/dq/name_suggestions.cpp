#include "name_suggestions.hpp"

#include <algorithm>
#include <utility>

namespace dq::tool {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme: the swap looks two rows back.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> closest_names(std::string_view wanted,
                                       const std::vector<std::string> &known, size_t max_count) {
  const size_t limit = std::clamp<size_t>((wanted.size() + 2) / 3, 1, 4);
  std::vector<std::pair<size_t, size_t>> hits;  // distance, index in known
  for (size_t i = 0; i < known.size(); ++i) {
    // The length difference bounds the distance from below: skip the far ones cheaply.
    const size_t la = wanted.size(), lb = known[i].size();
    if ((la > lb ? la - lb : lb - la) > limit) continue;
    const size_t d = edit_distance(wanted, known[i]);
    if (d <= limit) hits.emplace_back(d, i);
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto &x, const auto &y) { return x.first < y.first; });
  // Only the closest tier: a one-letter typo is not followed by names two edits away.
  std::vector<std::string> out;
  for (size_t k = 0; k < hits.size() && k < max_count && hits[k].first == hits[0].first; ++k)
    out.push_back(known[hits[k].second]);
  return out;
}

}  // namespace dq::tool
