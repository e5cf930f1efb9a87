// dq.hpp: header-only C++20 layer over the C API of dq.h (and dq_loader.h).
//
// RAII handles (Context, Model, Loader, LoadedModel, DeviceBuffer) that free themselves, and
// dq::Error (status + message) thrown on every failure, so callers write
//
//   dq::Context ctx;
//   dq::Model model(ctx, "model.gguf");
//   dq::LoadOptions opts;  opts.device("cuda", 0).output(DQ_TYPE_F16);
//   dq::LoadedModel w = dq::load(ctx, model, opts);
//   for (const auto &t : w.tensors()) use(t.name, t.data, t.ne);
//
// Nothing here adds behaviour: every function is a thin call into the C API, which stays the
// stable ABI. Handles are move-only; a moved-from handle is empty.
//
// Callbacks of LoadOptions (output_fn, progress, buffers) may throw anything: load(),
// load_file(), prepare_load() and Loader rethrow that same exception (its own type, not a
// dq::Error) once the C call has returned and what it allocated is freed. No exception unwinds
// through the C library: the trampoline keeps it in the LoadOptions and answers the loader as
// the C API allows. An output_fn that threw answers a type that is not an output type, which
// ends the load at once; progress and buffers have no way to stop a load in the C API, so after
// one threw the load runs to its end without calling it again (the loader allocates the
// remaining outputs), then is freed. The callback's exception is thrown in preference to an
// error of the load itself; memory a buffers callback returned before it threw stays the
// caller's. A caller passing LoadOptions::c() to the C API itself checks
// take_callback_exception() after the call.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dq/dq.h"

namespace dq {

// A failed call: its status and the library's message naming what was wrong.
class Error : public std::runtime_error {
 public:
  Error(dq_status status, const std::string &message)
      : std::runtime_error(message.empty() ? dq_status_string(status) : message), status_(status) {}
  dq_status status() const noexcept { return status_; }

 private:
  dq_status status_;
};

namespace detail {
inline void check(dq_status st, const dq_context *ctx, std::string_view what = {}) {
  if (st == DQ_OK) return;
  std::string msg = ctx ? dq_last_error(ctx) : "";
  if (msg.empty()) msg = dq_status_string(st);
  if (!what.empty()) msg = std::string(what) + ": " + msg;
  throw Error(st, msg);
}

template <class T, void (*Free)(T *)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T *p) : p_(p) {}
  Handle(Handle &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Handle &operator=(Handle &&o) noexcept {
    if (this != &o) reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { reset(); }
  T *get() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  void reset(T *p = nullptr) noexcept {
    if (p_) Free(p_);
    p_ = p;
  }
  T *release() noexcept { return std::exchange(p_, nullptr); }

 private:
  T *p_ = nullptr;
};
}  // namespace detail

// ------------------------------------------------------------------ types
inline std::string_view type_name(int32_t type) {
  const char *n = dq_type_name(type);
  return n ? n : std::string_view{};
}
inline std::optional<int32_t> type_from_name(const char *name) {
  const int32_t t = dq_type_from_name(name);
  return t < 0 ? std::nullopt : std::optional<int32_t>(t);
}
inline uint64_t tensor_bytes(int32_t type, int64_t n_elements) {
  uint64_t out = 0;
  detail::check(dq_type_nbytes(type, n_elements, &out), nullptr, "dq_type_nbytes");
  return out;
}
inline std::string version() { return dq_version_string(); }

// A place for bytes: host memory, or device `device` of a backend ("cuda", ...).
struct Location {
  std::string backend;  // "", "host" or "cpu": host memory (dq.h, dq_location)
  int32_t device = 0;
  static Location host() { return {}; }
  bool is_host() const { return backend.empty() || backend == "host" || backend == "cpu"; }
  dq_location c() const { return {is_host() ? nullptr : backend.c_str(), device}; }
};

// ---------------------------------------------------------------- context
struct BackendInfo {
  int32_t index = -1;
  std::string name, path, description, status;
  uint32_t abi_major = 0, abi_minor = 0;
  bool loaded = false;
  int32_t device_count = 0;
};

struct DeviceInfo {
  std::string name;
  uint64_t total_memory = 0, free_memory = 0;
  bool is_gpu = false;
};

class Context {
 public:
  Context() {
    dq_context *c = nullptr;
    const dq_status st = dq_context_create(&c);
    if (st != DQ_OK) throw Error(st, "cannot create a dq context");
    h_.reset(c);
  }
  dq_context *get() const noexcept { return h_.get(); }
  std::string last_error() const { return dq_last_error(h_.get()); }
  void check(dq_status st, std::string_view what = {}) const { detail::check(st, h_.get(), what); }

  std::vector<BackendInfo> backends() const {
    std::vector<BackendInfo> out;
    const int32_t n = dq_backend_count(get());
    for (int32_t i = 0; i < n; ++i) {
      dq_backend_info b{};
      b.struct_size = sizeof b;
      check(dq_backend_get_info(get(), i, &b), "backend info");
      out.push_back({i, b.name ? b.name : "", b.path ? b.path : "",
                     b.description ? b.description : "", b.status ? b.status : "", b.abi_major,
                     b.abi_minor, b.loaded != 0, b.device_count});
    }
    return out;
  }
  // Index of a backend by name, or nullopt.
  std::optional<int32_t> find_backend(const char *name) const {
    const int32_t i = dq_backend_find(get(), name);
    return i < 0 ? std::nullopt : std::optional<int32_t>(i);
  }
  DeviceInfo device(int32_t backend, int32_t device) const {
    dq_device_info d{};
    d.struct_size = sizeof d;
    check(dq_backend_get_device(get(), backend, device, &d), "device info");
    return {d.name ? d.name : "", d.total_memory, d.free_memory, d.is_gpu != 0};
  }
  bool supports(int32_t backend, int32_t src_type, int32_t dst_type) const {
    return dq_backend_supports(get(), backend, src_type, dst_type) != 0;
  }
  // Backend that served this thread's last dequantize on this context.
  std::string last_backend() const { return dq_last_backend(get()); }

  // Synchronous copy between locations.
  void memcpy(void *dst, const Location &dst_where, const void *src, const Location &src_where,
              size_t bytes) const {
    check(dq_memcpy(get(), dst, dst_where.c(), src, src_where.c(), bytes), "dq_memcpy");
  }
  void synchronize(const Location &where, void *stream = nullptr) const {
    check(dq_synchronize(get(), where.c(), stream), "dq_synchronize");
  }

 private:
  detail::Handle<dq_context, dq_context_destroy> h_;
};

// Memory at a location, freed with the buffer (before its context's dq_context is destroyed).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const Context &ctx, Location where, size_t bytes)
      : ctx_(ctx.get()), where_(std::move(where)), bytes_(bytes) {
    ctx.check(dq_malloc(ctx.get(), where_.c(), bytes, &ptr_), "dq_malloc");
  }
  DeviceBuffer(DeviceBuffer &&o) noexcept { *this = std::move(o); }
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept {
    if (this != &o) {
      reset();
      ctx_ = o.ctx_;
      where_ = std::move(o.where_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }
  void *data() const noexcept { return ptr_; }
  size_t size() const noexcept { return bytes_; }
  const Location &where() const noexcept { return where_; }
  void reset() noexcept {
    if (ptr_ && ctx_) dq_free(ctx_, where_.c(), ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }

 private:
  // The dq_context itself, not the Context object: that may be moved (a moved-from Context
  // is empty) or destroyed after handing its dq_context to another Context.
  dq_context *ctx_ = nullptr;
  Location where_;
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

// ------------------------------------------------------------- dequantize
struct DequantizeRequest {
  int32_t src_type = 0, dst_type = DQ_TYPE_F32;
  const void *src = nullptr;
  size_t src_bytes = 0;
  int64_t n_elements = 0;
  void *dst = nullptr;
  size_t dst_bytes = 0;
  Location src_where, dst_where;
  void *stream = nullptr;
  std::string backend;  // "": per-tensor selection
};

namespace detail {
// The C request for `r`; it points into `r` (r.backend's characters), so `r` must outlive it.
inline dq_dequantize_request to_c(const DequantizeRequest &r) {
  dq_dequantize_request q{};
  q.struct_size = sizeof q;
  q.src_type = r.src_type;
  q.dst_type = r.dst_type;
  q.src = r.src;
  q.src_bytes = r.src_bytes;
  q.n_elements = r.n_elements;
  q.dst = r.dst;
  q.dst_bytes = r.dst_bytes;
  q.src_where = r.src_where.c();
  q.dst_where = r.dst_where.c();
  q.stream = r.stream;
  q.backend = r.backend.empty() ? nullptr : r.backend.c_str();
  return q;
}
}  // namespace detail

// Returns the name of the backend that did it.
inline std::string dequantize(const Context &ctx, const DequantizeRequest &r) {
  const dq_dequantize_request q = detail::to_c(r);
  ctx.check(dq_dequantize(ctx.get(), &q), "dq_dequantize");
  return ctx.last_backend();
}

// All of `reqs` in one dq_dequantize_batch call (validated first: a bad request throws and
// nothing runs). Returns the name of the backend that served the last request.
inline std::string dequantize_batch(const Context &ctx, std::span<const DequantizeRequest> reqs) {
  std::vector<dq_dequantize_request> q;
  q.reserve(reqs.size());
  for (const DequantizeRequest &r : reqs) q.push_back(detail::to_c(r));
  ctx.check(dq_dequantize_batch(ctx.get(), q.data(), q.size()), "dq_dequantize_batch");
  return ctx.last_backend();
}

// Host-to-host convenience: dequantizes `src` (n_elements of src_type) into a new vector of
// dst_type values (float for F32, uint16_t bits for F16/BF16 via the byte vector). A count
// src cannot hold throws dq::Error before the output is allocated.
inline std::vector<uint8_t> dequantize_to_host(const Context &ctx, int32_t src_type,
                                               std::span<const uint8_t> src, int64_t n_elements,
                                               int32_t dst_type, const std::string &backend = {}) {
  DequantizeRequest r;
  r.src_type = src_type;
  r.dst_type = dst_type;
  r.src = src.data();
  r.src_bytes = src.size();
  r.n_elements = n_elements;
  r.backend = backend;
  // An n_elements that src cannot hold (negative, not whole blocks, past src's end) must not
  // size the vector first (std::length_error, or terabytes asked for): the C checks refuse it,
  // with their message, before an output exists (dst_bytes 0 is never enough). Past them the
  // output is at most ~30 times the source.
  uint64_t need = 0;
  if (n_elements <= 0 || dq_type_nbytes(src_type, n_elements, &need) != DQ_OK ||
      src.size() < need) {
    uint8_t none = 0;
    r.dst = &none;
    r.dst_bytes = 0;
    dequantize(ctx, r);  // throws
  }
  std::vector<uint8_t> out(static_cast<size_t>(n_elements) * (dst_type == DQ_TYPE_F32 ? 4 : 2));
  r.dst = out.data();
  r.dst_bytes = out.size();
  dequantize(ctx, r);
  return out;
}

// ------------------------------------------------------------------ model
// A metadata value (borrowed from its model).
class Value {
 public:
  explicit Value(const dq_value *v) : v_(v) {}
  dq_value_type type() const { return dq_value_get_type(v_); }
  int64_t as_i64() const { int64_t x; get(dq_value_get_i64(v_, &x)); return x; }
  uint64_t as_u64() const { uint64_t x; get(dq_value_get_u64(v_, &x)); return x; }
  double as_f64() const { double x; get(dq_value_get_f64(v_, &x)); return x; }
  bool as_bool() const { int32_t x; get(dq_value_get_bool(v_, &x)); return x != 0; }
  std::string_view as_string() const {
    const char *s = nullptr;
    uint64_t n = 0;
    get(dq_value_get_string(v_, &s, &n));
    return {s, static_cast<size_t>(n)};
  }
  dq_value_type array_type() const { return dq_value_array_type(v_); }
  uint64_t array_size() const { return dq_value_array_count(v_); }
  Value operator[](uint64_t i) const {
    const dq_value *e = dq_value_array_get(v_, i);
    if (e) return Value(e);
    // NULL for an index in range: the element's record could not be allocated.
    if (i < array_size())
      throw Error(DQ_ERR_OUT_OF_MEMORY, "no memory for array element " + std::to_string(i));
    throw Error(DQ_ERR_NOT_FOUND, "array index " + std::to_string(i) + " out of range");
  }
  std::span<const uint8_t> array_bytes() const {
    const void *p = nullptr;
    uint64_t n = 0;
    get(dq_value_array_data(v_, &p, &n));
    return {static_cast<const uint8_t *>(p), static_cast<size_t>(n)};
  }
  const dq_value *get() const noexcept { return v_; }

 private:
  static void get(dq_status st) { detail::check(st, nullptr, "metadata value"); }
  const dq_value *v_;
};

struct TensorInfo {
  std::string name;
  int32_t type = 0;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint32_t split = 0;
  uint64_t file_offset = 0;
  const void *data = nullptr;  // mapped bytes, valid while the model is open
  std::span<const uint8_t> bytes() const { return {static_cast<const uint8_t *>(data), n_bytes}; }
};

class Model {
 public:
  Model(const Context &ctx, const std::string &path) {
    dq_model *m = nullptr;
    const dq_status st = dq_model_open(ctx.get(), path.c_str(), &m);
    if (st != DQ_OK) {
      std::string msg = ctx.last_error();
      throw Error(st, msg.find(path) == std::string::npos ? path + ": " + msg : msg);
    }
    h_.reset(m);
  }
  dq_model *get() const noexcept { return h_.get(); }
  uint32_t gguf_version() const { return dq_model_gguf_version(get()); }
  uint32_t alignment() const { return dq_model_alignment(get()); }
  uint32_t split_count() const { return dq_model_split_count(get()); }

  int64_t kv_count() const { return dq_model_kv_count(get()); }
  std::string_view kv_key(int64_t i) const {
    const char *k = dq_model_kv_key(get(), i);
    return k ? k : std::string_view{};
  }
  Value kv_value(int64_t i) const {
    const dq_value *v = dq_model_kv_value(get(), i);
    if (!v) throw Error(DQ_ERR_NOT_FOUND, "metadata index " + std::to_string(i) + " out of range");
    return Value(v);
  }
  std::optional<Value> kv(const char *key) const {
    const int64_t i = dq_model_kv_find(get(), key);
    if (i < 0) return std::nullopt;
    return kv_value(i);
  }

  int64_t tensor_count() const { return dq_model_tensor_count(get()); }
  TensorInfo tensor(int64_t i) const {
    dq_tensor_info t{};
    t.struct_size = sizeof t;
    detail::check(dq_model_tensor_info(get(), i, &t), nullptr, "tensor info");
    TensorInfo o;
    o.name = t.name ? t.name : "";
    o.type = t.type;
    o.n_dims = t.n_dims;
    for (int d = 0; d < 4; ++d) o.ne[d] = t.ne[d];
    o.n_elements = t.n_elements;
    o.n_bytes = t.n_bytes;
    o.split = t.split;
    o.file_offset = t.file_offset;
    o.data = t.data;
    return o;
  }
  std::optional<TensorInfo> tensor(const char *name) const {
    const int64_t i = dq_model_tensor_find(get(), name);
    if (i < 0) return std::nullopt;
    return tensor(i);
  }
  std::vector<TensorInfo> tensors() const {
    std::vector<TensorInfo> out;
    for (int64_t i = 0; i < tensor_count(); ++i) out.push_back(tensor(i));
    return out;
  }

 private:
  detail::Handle<dq_model, dq_model_close> h_;
};

// ----------------------------------------------------------------- loader
// One piece of a placement (dq_load_part, docs/MULTI_GPU.md): rows [row_begin, row_end) and
// columns [col_begin, col_end) of tensor `name` to devices[device]; an end < 0 is "to the last".
struct LoadPart {
  std::string name;
  int32_t device = 0;
  int64_t row_begin = 0, row_end = -1;
  int64_t col_begin = 0, col_end = -1;
  bool operator==(const LoadPart &) const = default;
};

// Options of a load, built fluently; owns the strings and arrays the C struct points to.
class LoadOptions {
 public:
  using TypeFn = std::function<int32_t(const dq_tensor_info &, int32_t proposed)>;
  using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;
  using BufferFn = std::function<void *(const dq_tensor_info &, int32_t out_type, int64_t row_begin,
                                        int64_t row_end, uint64_t bytes)>;

  LoadOptions() { dq_load_options_init(&o_); }
  LoadOptions &device(const Location &where) { where_ = where; return *this; }
  LoadOptions &device(std::string backend, int32_t device = 0) {
    where_ = {std::move(backend), device};
    return *this;
  }
  // DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16 or DQ_LOAD_KEEP.
  LoadOptions &output(int32_t type) { o_.output_type = type; return *this; }
  LoadOptions &output(const std::string &tensor, int32_t type) {
    override_names_.push_back(tensor);
    override_types_.push_back(type);
    return *this;
  }
  LoadOptions &output_fn(TypeFn fn) { type_fn_ = std::move(fn); return *this; }
  LoadOptions &tensor(const std::string &name) { return rows(name, 0, -1); }
  // Rows [begin, end) of one tensor (end < 0: to the last row).
  LoadOptions &rows(const std::string &name, int64_t begin, int64_t end) {
    names_.push_back(name);
    begins_.push_back(begin);
    ends_.push_back(end);
    if (begin != 0 || end >= 0) ranged_ = true;
    return *this;
  }
  LoadOptions &staging_budget(uint64_t bytes) { o_.staging_budget = bytes; return *this; }
  LoadOptions &copy_threads(int32_t n) { o_.copy_threads = n; return *this; }
  LoadOptions &gpu_min_bytes(int64_t bytes) { o_.gpu_min_bytes = bytes; return *this; }
  LoadOptions &progress(ProgressFn fn) { progress_ = std::move(fn); return *this; }
  LoadOptions &buffers(BufferFn fn) { buffer_fn_ = std::move(fn); return *this; }
  // One load over several devices: these are the destinations (device() is then ignored);
  // a location may appear twice (two pipelines to one device).
  LoadOptions &devices(std::vector<Location> where) { devices_ = std::move(where); return *this; }
  // The placement (plan_tensor_parallel, plan_layers, or hand-made): every part is loaded,
  // tensors without a part are not. Not together with tensor()/rows().
  LoadOptions &parts(std::vector<LoadPart> parts) {
    parts_ = std::move(parts);
    has_parts_ = true;
    return *this;
  }
  LoadOptions &part(LoadPart p) {
    parts_.push_back(std::move(p));
    has_parts_ = true;
    return *this;
  }

  // The C struct, pointing into this object (valid while it lives and is not changed).
  // Starts a new call: a callback exception not yet taken is dropped.
  const dq_load_options *c() {
    callback_error_ = nullptr;
    o_.device = where_.c();
    name_ptrs_.clear();
    override_ptrs_.clear();
    for (auto &n : names_) name_ptrs_.push_back(n.c_str());
    for (auto &n : override_names_) override_ptrs_.push_back(n.c_str());
    o_.names = names_.empty() ? nullptr : name_ptrs_.data();
    o_.n_names = names_.size();
    o_.row_begin = ranged_ ? begins_.data() : nullptr;
    o_.row_end = ranged_ ? ends_.data() : nullptr;
    o_.override_names = override_ptrs_.empty() ? nullptr : override_ptrs_.data();
    o_.override_types = override_types_.empty() ? nullptr : override_types_.data();
    o_.n_overrides = override_names_.size();
    o_.type_fn = type_fn_ ? &LoadOptions::type_tramp : nullptr;
    o_.type_user = this;
    o_.progress = progress_ ? &LoadOptions::progress_tramp : nullptr;
    o_.progress_user = this;
    o_.buffer_fn = buffer_fn_ ? &LoadOptions::buffer_tramp : nullptr;
    o_.buffer_user = this;
    raw_devices_.clear();
    for (const Location &d : devices_) raw_devices_.push_back(d.c());
    o_.devices = raw_devices_.empty() ? nullptr : raw_devices_.data();
    o_.n_devices = raw_devices_.size();
    raw_parts_.clear();
    for (const LoadPart &p : parts_) {
      dq_load_part q{};
      q.struct_size = sizeof q;
      q.name = p.name.c_str();
      q.device = p.device;
      q.row_begin = p.row_begin;
      q.row_end = p.row_end;
      q.col_begin = p.col_begin;
      q.col_end = p.col_end;
      raw_parts_.push_back(q);
    }
    o_.parts = has_parts_ ? raw_parts_.data() : nullptr;
    o_.n_parts = raw_parts_.size();
    return &o_;
  }

  // The exception a callback threw during the last C call made with c(), or null; taken once.
  std::exception_ptr take_callback_exception() noexcept {
    return std::exchange(callback_error_, nullptr);
  }

 private:
  // Not an output type: the loader refuses it (DQ_ERR_INVALID_ARGUMENT) and stops the load.
  static constexpr int32_t kStopType = std::numeric_limits<int32_t>::min();

  // The trampolines never let an exception into the C library (see the top of this file);
  // after one, the callback is not called again in that call. The loader calls progress one
  // call at a time (dq_loader.h), so callback_error_ needs no lock.
  static int32_t type_tramp(void *u, const dq_tensor_info *t, int32_t p) noexcept {
    auto *self = static_cast<LoadOptions *>(u);
    if (self->callback_error_) return kStopType;
    try {
      return self->type_fn_(*t, p);
    } catch (...) {
      self->callback_error_ = std::current_exception();
      return kStopType;
    }
  }
  static void progress_tramp(void *u, uint64_t d, uint64_t t) noexcept {
    auto *self = static_cast<LoadOptions *>(u);
    if (self->callback_error_) return;
    try {
      self->progress_(d, t);
    } catch (...) {
      self->callback_error_ = std::current_exception();
    }
  }
  static void *buffer_tramp(void *u, const dq_tensor_info *t, int32_t o, int64_t b, int64_t e,
                            uint64_t n) noexcept {
    auto *self = static_cast<LoadOptions *>(u);
    if (self->callback_error_) return nullptr;  // NULL: the loader allocates this output
    try {
      return self->buffer_fn_(*t, o, b, e, n);
    } catch (...) {
      self->callback_error_ = std::current_exception();
      return nullptr;
    }
  }

  dq_load_options o_{};
  Location where_;
  std::vector<std::string> names_, override_names_;
  std::vector<const char *> name_ptrs_, override_ptrs_;
  std::vector<int64_t> begins_, ends_;
  std::vector<int32_t> override_types_;
  bool ranged_ = false;
  std::vector<Location> devices_;
  std::vector<dq_location> raw_devices_;
  std::vector<LoadPart> parts_;
  std::vector<dq_load_part> raw_parts_;
  bool has_parts_ = false;
  TypeFn type_fn_;
  ProgressFn progress_;
  BufferFn buffer_fn_;
  std::exception_ptr callback_error_;
};

struct LoadedTensor {
  std::string name;
  void *data = nullptr;
  Location where;
  int32_t type = 0, src_type = 0;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  int64_t n_elements = 0;
  uint64_t n_bytes = 0, file_bytes = 0;
  int64_t row_begin = 0, row_end = 0;
  std::string backend;
  bool caller_owned = false;
  int64_t col_begin = 0, col_end = 0;  // columns loaded (all of ne[0] unless a part cut them)
  int32_t device_index = 0;            // index in LoadOptions::devices (0 for one device)
};

// Tensors placed by a load; frees every buffer the loader allocated.
class LoadedModel {
 public:
  LoadedModel() = default;
  explicit LoadedModel(dq_loaded_model *p) : h_(p) {}
  dq_loaded_model *get() const noexcept { return h_.get(); }
  int64_t size() const { return dq_loaded_count(get()); }
  LoadedTensor tensor(int64_t i) const {
    dq_loaded_tensor t{};
    t.struct_size = sizeof t;
    detail::check(dq_loaded_get_tensor(get(), i, &t), nullptr, "loaded tensor");
    LoadedTensor o;
    o.name = t.name;
    o.data = t.data;
    o.where = {t.where.backend ? t.where.backend : "", t.where.device};
    o.type = t.type;
    o.src_type = t.src_type;
    o.n_dims = t.n_dims;
    for (int d = 0; d < 4; ++d) o.ne[d] = t.ne[d];
    o.n_elements = t.n_elements;
    o.n_bytes = t.n_bytes;
    o.file_bytes = t.file_bytes;
    o.row_begin = t.row_begin;
    o.row_end = t.row_end;
    o.backend = t.backend ? t.backend : "";
    o.caller_owned = t.caller_owned != 0;
    o.col_begin = t.col_begin;
    o.col_end = t.col_end;
    o.device_index = t.device_index;
    return o;
  }
  std::optional<LoadedTensor> find(const char *name) const {
    const int64_t i = dq_loaded_find(get(), name);
    if (i < 0) return std::nullopt;
    return tensor(i);
  }
  std::vector<LoadedTensor> tensors() const {
    std::vector<LoadedTensor> out;
    for (int64_t i = 0; i < size(); ++i) out.push_back(tensor(i));
    return out;
  }
  dq_load_stats stats() const {
    dq_load_stats s{};
    s.struct_size = sizeof s;
    detail::check(dq_loaded_get_stats(get(), &s), nullptr, "load stats");
    return s;
  }
  // Devices of the load (1 for a one-device load) and each one's own figures.
  int32_t device_count() const { return dq_loaded_device_count(get()); }
  dq_load_stats device_stats(int32_t device) const {
    dq_load_stats s{};
    s.struct_size = sizeof s;
    detail::check(dq_loaded_get_device_stats(get(), device, &s), nullptr, "device load stats");
    return s;
  }

 private:
  detail::Handle<dq_loaded_model, dq_loaded_free> h_;
};

namespace detail {
// After a C call made with options.c(): a callback's exception goes first (the status only says
// the load stopped), then the call's own error, if any. Callers hold the call's result in its
// RAII owner first, so a throw here frees it.
inline void check_load_call(dq_status st, LoadOptions &options, dq_context *ctx) {
  if (std::exception_ptr e = options.take_callback_exception()) std::rethrow_exception(e);
  check(st, ctx);
}
}  // namespace detail

inline LoadedModel load(const Context &ctx, const Model &model, LoadOptions &options) {
  dq_loaded_model *out = nullptr;
  const dq_status st = dq_load(ctx.get(), model.get(), options.c(), &out);
  LoadedModel lm(out);
  detail::check_load_call(st, options, ctx.get());
  return lm;
}

// dq_load_prepare: the host staging of a coming load(ctx, model, options), faulted in ahead.
inline void prepare_load(const Context &ctx, const Model &model, LoadOptions &options) {
  detail::check_load_call(dq_load_prepare(ctx.get(), model.get(), options.c()), options, ctx.get());
}

inline LoadedModel load_file(const Context &ctx, const std::string &path, LoadOptions &options) {
  dq_loaded_model *out = nullptr;
  const dq_status st = dq_load_file(ctx.get(), path.c_str(), options.c(), &out);
  LoadedModel lm(out);
  detail::check_load_call(st, options, ctx.get());
  return lm;
}

namespace detail {
// Copies a plan's parts (the plan owns their names) and frees it.
inline std::vector<LoadPart> plan_parts(const Context &ctx, dq_status st, dq_load_plan *plan,
                                        const char *what) {
  const Handle<dq_load_plan, dq_load_plan_free> owned(plan);
  ctx.check(st, what);
  size_t n = 0;
  const dq_load_part *p = dq_load_plan_parts(plan, &n);
  std::vector<LoadPart> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back({p[i].name, p[i].device, p[i].row_begin, p[i].row_end, p[i].col_begin,
                   p[i].col_end});
  return out;
}
}  // namespace detail

// Tensor parallelism over n_devices (dq_plan_tensor_parallel): rank < 0 gives every device's
// parts, rank >= 0 only that rank's, on device 0. Throws DQ_ERR_SIZE naming a tensor that
// cannot be cut evenly at whole blocks.
inline std::vector<LoadPart> plan_tensor_parallel(const Context &ctx, const Model &model,
                                                  int32_t n_devices, int32_t rank = -1) {
  dq_load_plan *plan = nullptr;
  const dq_status st = dq_plan_tensor_parallel(ctx.get(), model.get(), n_devices, rank, &plan);
  return detail::plan_parts(ctx, st, plan, "dq_plan_tensor_parallel");
}

// Whole tensors, blk.N.* in n_devices even runs of layers (dq_plan_layers).
inline std::vector<LoadPart> plan_layers(const Context &ctx, const Model &model, int32_t n_devices) {
  dq_load_plan *plan = nullptr;
  const dq_status st = dq_plan_layers(ctx.get(), model.get(), n_devices, &plan);
  return detail::plan_parts(ctx, st, plan, "dq_plan_layers");
}

// Staging and threads set up once for several loads to one destination.
class Loader {
 public:
  Loader(const Context &ctx, LoadOptions &options) : ctx_(ctx.get()) {
    dq_loader *l = nullptr;
    const dq_status st = dq_loader_create(ctx.get(), options.c(), &l);
    h_.reset(l);  // a throw below destroys it with this half-made Loader
    detail::check_load_call(st, options, ctx.get());
  }
  LoadedModel load(const Model &model, LoadOptions &options) const {
    dq_loaded_model *out = nullptr;
    const dq_status st = dq_loader_load(h_.get(), model.get(), options.c(), &out);
    LoadedModel lm(out);
    detail::check_load_call(st, options, ctx_);
    return lm;
  }
  dq_loader *get() const noexcept { return h_.get(); }

 private:
  dq_context *ctx_;  // as DeviceBuffer's: survives a move of the Context
  detail::Handle<dq_loader, dq_loader_destroy> h_;
};

// Pinned host-to-device bandwidth of a device, bytes per second.
inline double measure_h2d_bandwidth(const Context &ctx, const Location &where, uint64_t bytes = 0,
                                    int32_t repeats = 0) {
  double bps = 0;
  ctx.check(dq_measure_h2d_bandwidth(ctx.get(), where.c(), bytes, repeats, &bps));
  return bps;
}

}  // namespace dq
