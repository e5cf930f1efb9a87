// Each rule of check_request in its own function, in the order the checks run.
#include "request_check.hpp"

#include <cstdint>
#include <cstring>

#include "dq_common/type_traits.hpp"

namespace dq::core {
namespace {

Verdict bad(dq_status status, std::string message) {
  return {status, std::move(message)};
}

std::string type_label(int32_t id) {
  const TypeTraits *t = type_traits(id);
  return "type " + std::to_string(id) + (t ? " (" + std::string(t->name) + ")" : "");
}

Verdict check_types(const dq_dequantize_request &r) {
  const TypeTraits *t = type_traits(r.src_type);
  if (!t)
    return bad(DQ_ERR_UNKNOWN_TYPE, "src_type: type " + std::to_string(r.src_type) +
                                        " is unknown (ids 0.." + std::to_string(kTypeCount - 1) +
                                        ")");
  if (t->retired)
    return bad(DQ_ERR_UNKNOWN_TYPE, "src_type: " + type_label(r.src_type) + " is retired");
  if (!t->dequantizable)
    return bad(DQ_ERR_UNSUPPORTED,
               "src_type: " + type_label(r.src_type) + " cannot be dequantized");
  if (!is_output_type(r.dst_type))
    return bad(DQ_ERR_INVALID_ARGUMENT,
               "dst_type: " + type_label(r.dst_type) + " is not an output type (f32, f16, bf16)");
  return {};
}

Verdict check_sizes(const dq_dequantize_request &r) {
  const TypeTraits &t = *type_traits(r.src_type);
  if (r.n_elements <= 0)
    return bad(DQ_ERR_INVALID_ARGUMENT,
               "n_elements is " + std::to_string(r.n_elements) + ", must be > 0");
  if (r.n_elements % t.block_elements != 0)
    return bad(DQ_ERR_SIZE, "n_elements " + std::to_string(r.n_elements) +
                                " is not a multiple of " + t.name + "'s block of " +
                                std::to_string(t.block_elements));
  auto need = type_nbytes(r.src_type, r.n_elements);
  if (!need)
    return bad(DQ_ERR_SIZE,
               "n_elements " + std::to_string(r.n_elements) + " overflows the byte count");
  if (r.src_bytes < *need)
    return bad(DQ_ERR_SIZE, "src_bytes " + std::to_string(r.src_bytes) + " is less than the " +
                                std::to_string(*need) + " bytes of " +
                                std::to_string(r.n_elements) + " " + t.name + " elements");
  uint64_t out = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(r.n_elements), output_type_size(r.dst_type),
                             &out))
    return bad(DQ_ERR_SIZE,
               "n_elements " + std::to_string(r.n_elements) + " overflows the output size");
  if (r.dst_bytes < out)
    return bad(DQ_ERR_SIZE, "dst_bytes " + std::to_string(r.dst_bytes) + " is less than the " +
                                std::to_string(out) + " bytes of " + std::to_string(r.n_elements) +
                                " " + type_traits(r.dst_type)->name + " values");
  return {};
}

// Host buffers that overlap would be read after being written.
Verdict check_overlap(const dq_dequantize_request &r) {
  if (!is_host(r.src_where) || !is_host(r.dst_where)) return {};
  const auto s = reinterpret_cast<uintptr_t>(r.src), d = reinterpret_cast<uintptr_t>(r.dst);
  uintptr_t s_end = 0, d_end = 0;  // saturate: a huge size must not wrap around
  if (__builtin_add_overflow(s, r.src_bytes, &s_end)) s_end = UINTPTR_MAX;
  if (__builtin_add_overflow(d, r.dst_bytes, &d_end)) d_end = UINTPTR_MAX;
  if (s < d_end && d < s_end) return bad(DQ_ERR_INVALID_ARGUMENT, "src and dst overlap");
  return {};
}

Verdict check_locations(const dq_dequantize_request &r) {
  if (std::string why = location_problem(r.src_where); !why.empty())
    return bad(DQ_ERR_INVALID_ARGUMENT, "src_where: " + why);
  if (std::string why = location_problem(r.dst_where); !why.empty())
    return bad(DQ_ERR_INVALID_ARGUMENT, "dst_where: " + why);
  const char *s = is_host(r.src_where) ? nullptr : r.src_where.backend;
  const char *d = is_host(r.dst_where) ? nullptr : r.dst_where.backend;
  if (s && d && std::strcmp(s, d) != 0)
    return bad(DQ_ERR_INVALID_ARGUMENT, std::string("src is on backend '") + s + "', dst on '" + d +
                                            "': both device buffers must belong to one backend");
  if (s && d && r.src_where.device != r.dst_where.device)
    return bad(DQ_ERR_INVALID_ARGUMENT, "src and dst are on different devices");
  const char *dev = s ? s : d;
  if (dev && r.backend && std::strcmp(dev, r.backend) != 0)
    return bad(DQ_ERR_INVALID_ARGUMENT, std::string("backend '") + r.backend +
                                            "' forced, but the memory is on backend '" + dev + "'");
  return {};
}

}  // namespace

bool is_host(const dq_location &where) {
  const char *b = where.backend;
  // First letters before strcmp: a dequantize call asks this a dozen times per request.
  if (!b || !*b) return true;
  if (b[0] == 'h') return std::strcmp(b, "host") == 0;
  return b[0] == 'c' && b[1] == 'p' && std::strcmp(b, "cpu") == 0;
}

std::string location_problem(const dq_location &where) {
  if (is_host(where) && where.device != 0)
    return "host memory has only device 0, not " + std::to_string(where.device);
  return {};
}

dq_dequantize_request widened(const dq_dequantize_request &req) {
  dq_dequantize_request r{};
  // A current caller's struct is copied at its fixed size (a few vector moves); the
  // variable-length memcpy (rep movsb, then a store-forwarding stall) is kept for older ones.
  if (req.struct_size >= sizeof r)
    std::memcpy(&r, &req, sizeof r);
  else
    std::memcpy(&r, &req, req.struct_size);
  r.struct_size = sizeof r;
  return r;
}

const char *device_backend_of(const dq_dequantize_request &req) {
  if (!is_host(req.src_where)) return req.src_where.backend;
  if (!is_host(req.dst_where)) return req.dst_where.backend;
  return nullptr;
}

Verdict check_request(const dq_dequantize_request *req) {
  dq_dequantize_request unused;
  return check_request(req, &unused);
}

Verdict check_request(const dq_dequantize_request *req, dq_dequantize_request *widened_out) {
  if (!req) return bad(DQ_ERR_INVALID_ARGUMENT, "request is NULL");
  if (req->struct_size < kRequestRequiredSize)
    return bad(DQ_ERR_INVALID_ARGUMENT,
               "request struct_size " + std::to_string(req->struct_size) +
                   " is less than DQ_DEQUANTIZE_REQUEST_MIN_SIZE (" +
                   std::to_string(kRequestRequiredSize) + " bytes: every field through dst_bytes)");
  // Read nothing past the caller's struct: an older caller's struct ends before `stream`.
  const dq_dequantize_request &r = *widened_out = widened(*req);
  if (!r.src) return bad(DQ_ERR_INVALID_ARGUMENT, "src is NULL");
  if (!r.dst) return bad(DQ_ERR_INVALID_ARGUMENT, "dst is NULL");
  for (auto check : {check_types, check_sizes, check_overlap, check_locations}) {
    Verdict v = check(r);
    if (v.status != DQ_OK) return v;
  }
  return {};
}

}  // namespace dq::core
