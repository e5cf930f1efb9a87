// Writes GGUF files of random-but-valid blocks with a llama-like tensor layout: the built-in
// model of `dq load` (no arguments), the >= 2 GB benchmark model, and loader tests.
// Header-only so the tool, the tests and the benchmark share it without exporting internals.
//
// Blocks are random bytes whose scale fields are set to small normal f16 values, so every
// output is finite in f16 (no inf from huge scales) and no block pattern repeats within a
// tensor's first 16 MiB. Big tensors tile a per-type pool of random blocks, rotated per tensor,
// which keeps generating a 2 GB file at disk (page cache) speed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "dq_common/half.hpp"
#include "dq_common/type_traits.hpp"

namespace dq::loader::synth {

struct TensorSpec {
  std::string name;
  int32_t type;
  std::vector<int64_t> ne;  // ne[0] fastest
};

struct ModelSpec {
  std::string name = "dq-synthetic";
  std::vector<TensorSpec> tensors;
  uint32_t alignment = 32;
  uint64_t seed = 1;
};

inline uint64_t n_elements(const TensorSpec &t) {
  uint64_t n = 1;
  for (int64_t d : t.ne) n *= static_cast<uint64_t>(d);
  return n;
}

inline uint64_t n_bytes(const TensorSpec &t) {
  auto b = type_nbytes(t.type, static_cast<int64_t>(n_elements(t)));
  if (!b) throw std::invalid_argument("synthetic tensor " + t.name + ": size not a block multiple");
  return *b;
}

inline uint64_t file_data_bytes(const ModelSpec &m) {
  uint64_t s = 0;
  for (const auto &t : m.tensors) s += n_bytes(t);
  return s;
}

// Llama-like layout (token_embd, per layer: attn_norm, attn_q/k/v/output, ffn_norm,
// ffn_gate/up/down; output_norm, output) with Q4_K_M's type choice: Q4_K everywhere except
// attn_v, ffn_down and output in Q6_K, norms F32.
struct LlamaShape {
  int64_t n_embd = 4096, n_ff = 14336, n_vocab = 128256, n_layers = 32;
  int64_t n_head = 32, n_head_kv = 8;
};

inline ModelSpec llama_like(const LlamaShape &s) {
  ModelSpec m;
  const int64_t kv = s.n_embd / s.n_head * s.n_head_kv;
  auto add = [&](std::string name, int32_t type, std::vector<int64_t> ne) {
    m.tensors.push_back({std::move(name), type, std::move(ne)});
  };
  const int32_t q4k = 12, q6k = 14, f32 = 0;
  add("token_embd.weight", q4k, {s.n_embd, s.n_vocab});
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", f32, {s.n_embd});
    add(p + "attn_q.weight", q4k, {s.n_embd, s.n_embd});
    add(p + "attn_k.weight", q4k, {s.n_embd, kv});
    add(p + "attn_v.weight", q6k, {s.n_embd, kv});
    add(p + "attn_output.weight", q4k, {s.n_embd, s.n_embd});
    add(p + "ffn_norm.weight", f32, {s.n_embd});
    add(p + "ffn_gate.weight", q4k, {s.n_embd, s.n_ff});
    add(p + "ffn_up.weight", q4k, {s.n_embd, s.n_ff});
    add(p + "ffn_down.weight", q6k, {s.n_ff, s.n_embd});
  }
  add("output_norm.weight", f32, {s.n_embd});
  add("output.weight", q6k, {s.n_embd, s.n_vocab});
  return m;
}

// Llama-3-8B-like widths with as many layers as it takes to reach `gigabytes` of file data.
inline ModelSpec llama_like_of_size(double gigabytes) {
  LlamaShape s;
  s.n_layers = 1;
  const uint64_t base = file_data_bytes(llama_like(s));
  s.n_layers = 2;
  const uint64_t per_layer = file_data_bytes(llama_like(s)) - base;
  const double want = gigabytes * 1e9;
  s.n_layers = 1;
  if (want > static_cast<double>(base))
    s.n_layers += static_cast<int64_t>(
        std::ceil((want - static_cast<double>(base)) / static_cast<double>(per_layer)));
  ModelSpec m = llama_like(s);
  m.name = "dq-bench-llama";
  return m;
}

// The built-in model of `dq load` with no file: small (about 12 MB), same layout.
inline ModelSpec default_model() {
  const LlamaShape s{
      .n_embd = 512, .n_ff = 1536, .n_vocab = 4096, .n_layers = 4, .n_head = 8, .n_head_kv = 2};
  ModelSpec m = llama_like(s);
  m.name = "dq-builtin-llama";
  return m;
}

class Rng {  // splitmix64: fast, seedable, good enough for test bytes
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void fill(uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v = next();
      std::memcpy(p + i, &v, 8);
    }
    if (i < n) {
      uint64_t v = next();
      std::memcpy(p + i, &v, n - i);
    }
  }
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24);
  }

 private:
  uint64_t s_;
};

// A small normal f16 scale (magnitude 2^-12 .. 2^-6, either sign for d-like fields).
inline uint16_t random_scale(Rng &r, bool allow_negative) {
  float v = std::ldexp(r.uniform(1.0f, 2.0f), -12 + static_cast<int>(r.next() % 6));
  if (allow_negative && (r.next() & 1)) v = -v;
  return f32_to_f16(v);
}

// Fills n_blocks blocks of `type` with random valid content.
inline void fill_blocks(int32_t type, uint8_t *p, uint64_t n_blocks, Rng &r) {
  const TypeTraits *t = type_traits(type);
  const size_t bb = t->block_bytes;
  auto put16 = [](uint8_t *q, uint16_t v) { std::memcpy(q, &v, 2); };
  switch (type) {
    case 0:  // f32: uniform in [-1, 1)
      for (uint64_t i = 0; i < n_blocks; ++i) {
        float v = r.uniform(-1.0f, 1.0f);
        std::memcpy(p + 4 * i, &v, 4);
      }
      return;
    case 1:  // f16
      for (uint64_t i = 0; i < n_blocks; ++i) put16(p + 2 * i, f32_to_f16(r.uniform(-1.0f, 1.0f)));
      return;
    case 30:  // bf16
      for (uint64_t i = 0; i < n_blocks; ++i) put16(p + 2 * i, f32_to_bf16(r.uniform(-1.0f, 1.0f)));
      return;
    default:
      break;
  }
  r.fill(p, n_blocks * bb);
  for (uint64_t i = 0; i < n_blocks; ++i) {
    uint8_t *b = p + i * bb;
    switch (type) {
      case 2:
      case 6:
      case 8:
      case 20:  // q4_0, q5_0, q8_0, iq4_nl: d first
        put16(b, random_scale(r, true));
        break;
      case 3:
      case 7:  // q4_1, q5_1: d, m
        put16(b, random_scale(r, true));
        put16(b + 2, random_scale(r, true));
        break;
      case 12:
      case 13:  // q4_K, q5_K: d, dmin first
        put16(b, random_scale(r, false));
        put16(b + 2, random_scale(r, false));
        break;
      case 14:  // q6_K: d last
        put16(b + 208, random_scale(r, true));
        break;
      default:
        throw std::invalid_argument(std::string("synthetic model: no generator for type ") +
                                    t->name);
    }
  }
}

// Streams the GGUF to `path`. Returns the file size.
inline uint64_t write_gguf(const ModelSpec &m, const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create " + path);
  std::vector<uint8_t> head;
  auto u32 = [&](uint32_t v) { head.insert(head.end(), (uint8_t *)&v, (uint8_t *)&v + 4); };
  auto u64 = [&](uint64_t v) { head.insert(head.end(), (uint8_t *)&v, (uint8_t *)&v + 8); };
  auto str = [&](const std::string &s) {
    u64(s.size());
    head.insert(head.end(), s.begin(), s.end());
  };
  u32(0x46554747u);  // "GGUF"
  u32(3);
  u64(m.tensors.size());
  u64(3);  // kv count
  str("general.architecture");
  u32(8);
  str("llama");
  str("general.name");
  u32(8);
  str(m.name);
  str("general.alignment");
  u32(4);
  u32(m.alignment);
  uint64_t offset = 0;
  auto align = [&](uint64_t v) { return (v + m.alignment - 1) / m.alignment * m.alignment; };
  for (const auto &t : m.tensors) {
    str(t.name);
    u32(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) u64(static_cast<uint64_t>(d));
    u32(static_cast<uint32_t>(t.type));
    u64(offset);
    offset = align(offset + n_bytes(t));
  }
  head.resize(align(head.size()), 0);
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();

  // Per-type pools of random blocks (up to 16 MiB), tiled with a per-tensor rotation.
  constexpr uint64_t kPoolBytes = 16ull << 20;
  Rng rng(m.seed);
  std::vector<std::pair<int32_t, std::vector<uint8_t>>> pools;
  auto pool_for = [&](int32_t type) -> std::vector<uint8_t> & {
    for (auto &p : pools)
      if (p.first == type) return p.second;
    const size_t bb = type_traits(type)->block_bytes;
    std::vector<uint8_t> v((kPoolBytes / bb) * bb);
    fill_blocks(type, v.data(), v.size() / bb, rng);
    pools.emplace_back(type, std::move(v));
    return pools.back().second;
  };
  uint64_t written = 0;
  const std::vector<uint8_t> zeros(m.alignment, 0);
  for (size_t ti = 0; ti < m.tensors.size() && ok; ++ti) {
    const auto &t = m.tensors[ti];
    const uint64_t bytes = n_bytes(t);
    const auto &pool = pool_for(t.type);
    const size_t bb = type_traits(t.type)->block_bytes;
    const uint64_t pool_blocks = pool.size() / bb;
    uint64_t pos = (rng.next() % pool_blocks) * bb;
    for (uint64_t done = 0; done < bytes && ok;) {
      const uint64_t n = std::min<uint64_t>(bytes - done, pool.size() - pos);
      ok = std::fwrite(pool.data() + pos, 1, n, f) == n;
      done += n;
      pos = 0;
    }
    written += bytes;
    const uint64_t pad = align(written) - written;
    if (ti + 1 < m.tensors.size() && pad) ok = ok && std::fwrite(zeros.data(), 1, pad, f) == pad;
    written += pad;
  }
  const uint64_t total = head.size() + written;
  if (std::fclose(f) != 0) ok = false;
  if (!ok) throw std::runtime_error("writing " + path + " failed (disk full?)");
  return total;
}

}  // namespace dq::loader::synth
