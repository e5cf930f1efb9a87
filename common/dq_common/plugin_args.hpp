// Checks of dq_plugin_dequantize_args that every in-tree plugin makes word for word alike
// (cpu, cuda, vulkan; hip compiles the cuda plugin's glue): one copy, so a message changed
// here changes for every backend. Header-only. A helper reports a refusal through the
// plugin's own fail(status, message), passed in, and returns its status; DQ_OK when the
// check passes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "dq/dq_plugin.h"
#include "dq_common/type_traits.hpp"

namespace dq::plugin_args {

// The smallest struct a caller may pass: every field through `stream` (ABI 1.0).
inline constexpr size_t kMinArgsSize = offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *);

// "type id 12 (q4_K)"; "type id 99" for an id outside the table.
inline std::string type_label(int32_t id) {
  const dq::TypeTraits *t = dq::type_traits(id);
  return "type id " + std::to_string(id) + (t ? std::string(" (") + t->name + ")" : "");
}

inline bool ranges_overlap(const void *a, uint64_t a_bytes, const void *b, uint64_t b_bytes) {
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

// Element i of a batch: elements are `stride` bytes apart, the caller's struct size, which
// may differ from this build's sizeof (dq_plugin.h).
inline const dq_plugin_dequantize_args &batch_element(const dq_plugin_dequantize_args *args,
                                                      size_t stride, size_t i) {
  return *reinterpret_cast<const dq_plugin_dequantize_args *>(
      reinterpret_cast<const uint8_t *>(args) + i * stride);
}

// The caller's element as this build's struct (a larger caller struct's tail is not ours).
inline dq_plugin_dequantize_args own_copy(const dq_plugin_dequantize_args &a, size_t stride) {
  dq_plugin_dequantize_args c{};
  std::memcpy(&c, &a, std::min(stride, sizeof c));
  c.struct_size = sizeof c;
  return c;
}

// The entry checks of `call` ("dequantize", "dequantize_batch"): args present and large
// enough to hold every ABI 1.0 field.
template <typename Fail>
int32_t check_args_struct(const dq_plugin_dequantize_args *args, const char *call, Fail &&fail) {
  if (!args) return fail(DQ_ERR_INVALID_ARGUMENT, std::string(call) + ": null arguments");
  if (args->struct_size < kMinArgsSize)
    return fail(DQ_ERR_INVALID_ARGUMENT, std::string(call) + ": arguments struct too small");
  return DQ_OK;
}

// dequantize_batch's walk over n >= 1 elements, before any work: the struct checks, then
// for each element in order its struct_size (that of the first: the stride) and
// validate(element, "dequantize_batch: tensor <i>"). Stops at the first refusal, so no
// element after a bad one is validated. The stride is args->struct_size.
template <typename Fail, typename Validate>
int32_t check_batch_args(const dq_plugin_dequantize_args *args, size_t n, Fail &&fail,
                         Validate &&validate) {
  if (int32_t st = check_args_struct(args, "dequantize_batch", fail); st != DQ_OK) return st;
  const size_t stride = args->struct_size;
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args &a = batch_element(args, stride, i);
    const std::string what = "dequantize_batch: tensor " + std::to_string(i);
    if (a.struct_size != stride)
      return fail(DQ_ERR_INVALID_ARGUMENT, what + ": struct_size " + std::to_string(a.struct_size) +
                                               " differs from the first's " +
                                               std::to_string(stride));
    if (int32_t st = validate(a, what); st != DQ_OK) return st;
  }
  return DQ_OK;
}

// The request's types: a known, current, dequantizable source; an f32, f16 or bf16 output.
// `prefix` starts every message verbatim ("dequantize_batch: tensor 2: ", or "").
template <typename Fail>
int32_t check_request_types(const dq_plugin_dequantize_args &a, const std::string &prefix,
                            Fail &&fail) {
  const dq::TypeTraits *t = dq::type_traits(a.src_type);
  if (!t) return fail(DQ_ERR_UNKNOWN_TYPE, prefix + type_label(a.src_type) + " is unknown");
  if (t->retired) return fail(DQ_ERR_UNKNOWN_TYPE, prefix + type_label(a.src_type) + " is retired");
  if (!t->dequantizable)
    return fail(DQ_ERR_UNSUPPORTED, prefix + type_label(a.src_type) + " has no dequantization");
  if (!dq::is_output_type(a.dst_type))
    return fail(DQ_ERR_INVALID_ARGUMENT, prefix + "output type id " + std::to_string(a.dst_type) +
                                             " is not f32 (0), f16 (1) or bf16 (30)");
  return DQ_OK;
}

// What a request with checked sizes covers.
struct RequestBytes {
  uint64_t src = 0;     // source bytes the elements need
  uint64_t dst = 0;     // destination bytes the outputs need
  size_t out_size = 0;  // bytes of one output element
};

// The request's sizes, after check_request_types: a positive element count of whole blocks,
// byte sizes that fit 64 bits, and source and destination buffers that hold them. Fills
// *bytes when they pass.
template <typename Fail>
int32_t check_request_sizes(const dq_plugin_dequantize_args &a, const std::string &prefix,
                            RequestBytes *bytes, Fail &&fail) {
  const dq::TypeTraits &t = *dq::type_traits(a.src_type);
  if (a.n_elements <= 0)
    return fail(DQ_ERR_INVALID_ARGUMENT,
                prefix + "element count " + std::to_string(a.n_elements) + " is not positive");
  if (a.n_elements % t.block_elements != 0)
    return fail(DQ_ERR_SIZE, prefix + "element count " + std::to_string(a.n_elements) +
                                 " is not a multiple of " + t.name + "'s block of " +
                                 std::to_string(t.block_elements));
  // Whole blocks, so no size means the byte count does not fit 64 bits.
  const auto src_needed = dq::type_nbytes(a.src_type, a.n_elements);
  if (!src_needed)
    return fail(DQ_ERR_SIZE, prefix + "element count " + std::to_string(a.n_elements) + " of " +
                                 t.name + " overflows the byte size");
  if (a.src_bytes < *src_needed)
    return fail(DQ_ERR_SIZE, prefix + "source holds " + std::to_string(a.src_bytes) + " bytes, " +
                                 std::to_string(a.n_elements) + " " + t.name + " elements need " +
                                 std::to_string(*src_needed));
  const size_t out_size = dq::output_type_size(a.dst_type);
  uint64_t dst_needed = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(a.n_elements), static_cast<uint64_t>(out_size),
                             &dst_needed))
    return fail(DQ_ERR_SIZE, prefix + "element count " + std::to_string(a.n_elements) + " of " +
                                 dq::type_traits(a.dst_type)->name +
                                 " outputs overflows the byte size");
  if (a.dst_bytes < dst_needed)
    return fail(DQ_ERR_SIZE, prefix + "destination holds " + std::to_string(a.dst_bytes) +
                                 " bytes, " + std::to_string(a.n_elements) + " outputs need " +
                                 std::to_string(dst_needed));
  *bytes = {*src_needed, dst_needed, out_size};
  return DQ_OK;
}

}  // namespace dq::plugin_args
