// JUnit XML (the format CI systems read): one <testsuite> per plugin, one <testcase> per check.
#pragma once

#include <string>
#include <vector>

#include "isolation.hpp"

namespace dq::conformance {

// Writes the file; "" on success, else why it could not be written.
std::string write_junit(const std::string &path, const std::vector<CheckResult> &results);

}  // namespace dq::conformance
