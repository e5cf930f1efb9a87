#include "invoke.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include "dq_common/type_traits.hpp"
#include "fp_environment.hpp"
#include "guarded_buffer.hpp"

namespace dq::conformance {

std::string status_text(int32_t status) {
  static const char *const names[] = {
      "DQ_OK",           "DQ_ERR_INVALID_ARGUMENT", "DQ_ERR_UNKNOWN_TYPE", "DQ_ERR_UNSUPPORTED",
      "DQ_ERR_SIZE",     "DQ_ERR_NO_BACKEND",       "DQ_ERR_NO_DEVICE",    "DQ_ERR_OUT_OF_MEMORY",
      "DQ_ERR_IO",       "DQ_ERR_BAD_FILE",         "DQ_ERR_NOT_FOUND",    "DQ_ERR_ABI",
      "DQ_ERR_BACKEND",  "DQ_ERR_TYPE_MISMATCH",    "DQ_ERR_INTERNAL"};
  const std::string n = std::to_string(status);
  if (status >= 0 && status < static_cast<int32_t>(sizeof names / sizeof names[0]))
    return std::string(names[status]) + " (" + n + ")";
  return "undefined status " + n;
}

Call valid_call(int32_t src_type, int32_t dst_type, int64_t n_elements,
                std::vector<uint8_t> src) {
  Call c;
  c.src_type = src_type;
  c.dst_type = dst_type;
  c.n_elements = n_elements;
  c.src_bytes = src.size();
  c.src = std::move(src);
  const size_t out = is_output_type(dst_type) ? output_type_size(dst_type) : 4;
  c.dst_bytes = n_elements > 0 ? static_cast<size_t>(n_elements) * out : out;
  return c;
}

std::string with_layout(Call &c, int index) {
  const size_t element = is_output_type(c.dst_type) ? output_type_size(c.dst_type) : 4;
  struct Layout {
    size_t src_offset, dst_elements_off, spare;
  };
  // Offsets in elements keep dst aligned to its element and no more (1, 3, 2 elements past a
  // 64-byte boundary); odd source offsets leave multi-byte fields unaligned.
  static const Layout layouts[kLayoutCount] = {
      {SIZE_MAX, 0, 0}, {0, 1, 61}, {1, 3, 4093}, {7, 2, 6}};
  const Layout &l = layouts[index % kLayoutCount];
  if (index % kLayoutCount == 0) return "plain layout";
  c.src_offset = l.src_offset;
  c.dst_offset = l.dst_elements_off * element;
  c.dst_writable = c.dst_bytes;
  c.dst_bytes += l.spare;
  return "src at +" + std::to_string(l.src_offset) + " after a guard page, dst at +" +
         std::to_string(c.dst_offset) + " from 64-byte alignment, " + std::to_string(l.spare) +
         " spare bytes after the outputs";
}

namespace {

// Runs one plugin call and checks it left the floating-point control state alone; puts the
// state back when it did not, so later calls start from the same one.
template <typename F>
int32_t call_watching_fp(F &&call, std::string *error) {
  const uint64_t before = read_fp_control();
  const int32_t status = call();
  const uint64_t after = read_fp_control();
  if (after != before) {
    *error = "dequantize changed the floating-point environment: " +
             describe_fp_change(before, after);
    write_fp_control(before);
  }
  return status;
}

std::string last_error_text(const dq_plugin_api &api) {
  const char *m = api.last_error ? api.last_error() : nullptr;
  return m ? m : "<NULL>";
}

CallResult call_host(const dq_plugin_api &api, const Call &c, dq_plugin_dequantize_args args) {
  CallResult r;
  HostBuffer src(c.src_bytes, HostBuffer::Placement::source, "source", c.src_offset);
  HostBuffer dst(c.dst_bytes, HostBuffer::Placement::destination, "destination", c.dst_offset);
  src.fill(c.src);
  src.protect_read_only();  // as the loader's mappings of the model file are
  args.src = c.null_src ? nullptr : src.data();
  args.dst = c.null_dst ? nullptr : dst.data();
  args.src_on_host = c.src_on_host < 0 ? 1 : c.src_on_host;
  args.dst_on_host = 1;
  r.status = call_watching_fp(
      [&] { return c.null_args ? api.dequantize(nullptr) : api.dequantize(&args); },
      &r.fp_error);
  r.message = last_error_text(api);
  const size_t placed = std::min(c.src.size(), c.src_bytes);
  if (placed && std::memcmp(src.data(), c.src.data(), placed) != 0)
    r.source_error = "the source bytes changed during the call (the source is read-only)";
  r.canary_error = dst.check_canaries(c.dst_writable);
  r.dst_untouched = dst.untouched();
  r.out.assign(dst.data(), dst.data() + dst.size());
  return r;
}

CallResult call_device(const dq_plugin_api &api, const Call &c, dq_plugin_dequantize_args args) {
  CallResult r;
  DeviceBuffer src(api, c.device, c.src_bytes, 0);
  DeviceBuffer dst(api, c.device, c.dst_bytes, 4096);
  if (!src.ok() || !dst.ok()) {
    r.setup_error = src.ok() ? dst.error() : src.error();
    return r;
  }
  std::string e = src.upload(c.src);
  if (e.empty()) e = dst.upload_canary();
  if (!e.empty()) {
    r.setup_error = e;
    return r;
  }
  args.src = c.null_src ? nullptr : src.data();
  args.dst = c.null_dst ? nullptr : dst.data();
  args.src_on_host = c.src_on_host < 0 ? 0 : c.src_on_host;
  args.dst_on_host = 0;
  r.status = call_watching_fp(
      [&] { return c.null_args ? api.dequantize(nullptr) : api.dequantize(&args); },
      &r.fp_error);
  r.message = last_error_text(api);
  if (api.synchronize) {
    const int32_t st = api.synchronize(c.device, nullptr);
    if (st != DQ_OK) {
      r.setup_error = "synchronize after dequantize failed with " + status_text(st) + ": " +
                      last_error_text(api);
      return r;
    }
  }
  e = dst.download(&r.out, &r.canary_error);
  if (!e.empty()) {
    r.setup_error = e;
    return r;
  }
  r.dst_untouched = true;
  for (size_t i = 0; i < r.out.size(); ++i)
    if (r.out[i] != canary_byte(4096 + i)) r.dst_untouched = false;
  return r;
}

}  // namespace

CallResult call_dequantize(const dq_plugin_api &api, const Call &c) {
  dq_plugin_dequantize_args args{};
  args.struct_size = c.struct_size;
  args.src_type = c.src_type;
  args.dst_type = c.dst_type;
  args.src_bytes = c.src_bytes;
  args.n_elements = c.n_elements;
  args.dst_bytes = c.dst_bytes;
  args.device = c.device;
  args.stream = nullptr;
  return c.memory == Memory::host ? call_host(api, c, args) : call_device(api, c, args);
}

}  // namespace dq::conformance
