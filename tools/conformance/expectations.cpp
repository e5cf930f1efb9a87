#include "expectations.hpp"

namespace dq::conformance {

std::string expect_refused(const dq_plugin_api &api, const Call &call,
                           std::initializer_list<int32_t> allowed, const std::string &what) {
  const CallResult r = call_dequantize(api, call);
  if (!r.setup_error.empty()) return what + ": could not prepare buffers: " + r.setup_error;
  bool ok = false;
  std::string names;
  for (int32_t s : allowed) {
    ok = ok || r.status == s;
    names += (names.empty() ? "" : " or ") + status_text(s);
  }
  if (!ok) return what + " returned " + status_text(r.status) + ", expected " + names;
  if (r.message == "<NULL>") return what + ": last_error() returned NULL after the failure";
  if (r.message.empty()) return what + ": failed without a message (last_error() is empty)";
  if (!r.canary_error.empty()) return what + ": " + r.canary_error;
  if (!r.source_error.empty()) return what + ": " + r.source_error;
  if (!r.fp_error.empty()) return what + ": " + r.fp_error;
  if (!r.dst_untouched) return what + ": failed but wrote into the destination";
  return "";
}

std::string expect_success(const CallResult &r, const std::string &what) {
  if (!r.setup_error.empty()) return what + ": could not prepare buffers: " + r.setup_error;
  if (r.status != DQ_OK)
    return what + " returned " + status_text(r.status) + ": " + r.message;
  if (!r.canary_error.empty()) return what + ": " + r.canary_error;
  if (!r.source_error.empty()) return what + ": " + r.source_error;
  if (!r.fp_error.empty()) return what + ": " + r.fp_error;
  return "";
}

}  // namespace dq::conformance
