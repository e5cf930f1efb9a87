// The manifest reader (common/dq_common/manifest.hpp, shared with the conformance runner) under
// the test suites' namespace.
#pragma once

#include "dq_common/manifest.hpp"
#include "testdata.hpp"

namespace dq::test {

using dq::testdata::golden_rows;
using dq::testdata::manifest_by_file;
using dq::testdata::ManifestRow;
using dq::testdata::read_golden_f32;
using dq::testdata::read_manifest;
using dq::testdata::read_tensor_bytes;

}  // namespace dq::test
