#include "reference.hpp"

#include <cstdlib>
#include <cstring>


namespace dq::conformance {

std::string reference_plugin_path(const std::string &requested,
                                  const std::vector<std::string> &judged,
                                  const std::function<std::vector<std::string>()> &discovered) {
  if (!requested.empty()) return requested;
  for (const std::string &p : judged)
    if (plugin_name_from_path(p) == "cpu") return p;
  for (const std::string &p : discovered())
    if (plugin_name_from_path(p) == "cpu") return p;
  return "";
}

namespace {

// Sets an environment variable for the lifetime of the object, then restores it, so the
// plugin under test still sees the user's environment.
class ScopedEnv {
 public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char *name_;
  std::optional<std::string> old_;
};

}  // namespace

std::optional<LoadedPlugin> load_reference(const std::string &path, std::string *why) {
  if (path.empty()) {
    *why = "no reference: libdq-cpu.so not found (build it, set DQ_PLUGIN_PATH or pass "
           "--reference)";
    return std::nullopt;
  }
  // The cpu plugin reads DQ_CPU_ISA in init(); keep it set until init has returned.
  ScopedEnv isa("DQ_CPU_ISA", "scalar");
  LoadedPlugin ref = load_plugin_private_copy(path);
  std::string error = !ref.load_error.empty()    ? ref.load_error
                      : !ref.entry_error.empty() ? ref.entry_error
                                                 : ref.abi_error;
  if (error.empty() && (!ref.api->init || !ref.api->dequantize || !ref.api->supports))
    error = path + ": reference table lacks init/dequantize/supports";
  if (error.empty() && ref.api->init() != DQ_OK)
    error = path + ": reference init() failed: " +
            (ref.api->last_error ? ref.api->last_error() : "");
  if (error.empty() && ref.api->describe) {
    const char *d = ref.api->describe();
    if (!d || !std::strstr(d, "scalar"))
      error = path + ": reference did not select its scalar kernels (describe: \"" +
              (d ? d : "") + "\")";
  }
  if (!error.empty()) {
    *why = "reference unusable: " + error;
    unload_plugin(ref, false);
    return std::nullopt;
  }
  return ref;
}

}  // namespace dq::conformance
