// The shared judgement of a call that must fail: an allowed status, a message, and no
// writes anywhere.
#pragma once

#include <initializer_list>
#include <string>

#include "invoke.hpp"

namespace dq::conformance {

// "" when the call was refused as P7/P10-P12 require; else what was wrong, naming `what`.
std::string expect_refused(const dq_plugin_api &api, const Call &call,
                           std::initializer_list<int32_t> allowed, const std::string &what);

// "" when `r` is a successful call that wrote only inside the destination.
std::string expect_success(const CallResult &r, const std::string &what);

}  // namespace dq::conformance
