// `dq info --json`: a model's header, metadata (arrays in full), tensor table and per-type
// totals as one JSON document, streamed (memory stays near the model's own size however
// large its metadata arrays are). Callable on any opened model, e.g. from a fuzz target.
#pragma once

#include <string>

#include "dq/dq.h"
#include "json_writer.hpp"

namespace dq::tool {

// Writes the document for the model opened from `path`; `out` is then finish()ed.
// Returns false when writing failed.
bool write_info_json(const std::string &path, const dq_model *m, JsonWriter &out);

}  // namespace dq::tool
