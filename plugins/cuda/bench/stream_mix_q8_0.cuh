// dq-cuda-stream-mix: real Q8_0 -> f16 dequantizers (any block count, bit-exact:
// y = half_rn(float(q) * float(d)); the product is exact in float, so this is the one
// correctly rounded result). Two styles, so the synthetic rows can be checked against a
// kernel that would ship:
//   q8_0_f16_a32   32 threads per 64 blocks (2048 elements), the blocks' 2176 bytes staged in
//                  shared memory with 4-byte loads, then one half2 store per pair of outputs
//   q8_0_f16_b     256-thread blocks, one thread per 8 blocks (272 bytes: 17 16-byte nc
//                  loads into registers, 32 16-byte stores; plain or streaming)
// Source and destination must be 16-byte aligned (cudaMalloc's are).
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "stream_mix_kernels.cuh"

namespace stream_mix {

constexpr int kQ8Bytes = 34;

__device__ inline uint32_t q8_pair_to_half2(int8_t a, int8_t b, float d) {
  return half2_bits(__floats2half2_rn(float(a) * d, float(b) * d));
}

__global__ void __launch_bounds__(32) q8_0_f16_a32(const uint8_t *__restrict__ src, __half *__restrict__ dst,
                                                   int64_t nblocks) {
  constexpr int kBlocks = 64, kBytes = kBlocks * kQ8Bytes;  // 2176: a multiple of 16
  __shared__ uint32_t stage[kBytes / 4];
  const int64_t first = int64_t(blockIdx.x) * kBlocks;
  const int nb = int(nblocks - first < kBlocks ? nblocks - first : kBlocks);
  const uint8_t *in = src + first * kQ8Bytes;
  if (nb == kBlocks) {
#pragma unroll
    for (int i = threadIdx.x; i < kBytes / 4; i += 32) stage[i] = reinterpret_cast<const uint32_t *>(in)[i];
  } else {  // the last, partial chunk: its byte count need not be a multiple of 4
    for (int i = threadIdx.x; i < nb * kQ8Bytes; i += 32) reinterpret_cast<uint8_t *>(stage)[i] = in[i];
  }
  __syncthreads();
  const uint8_t *s = reinterpret_cast<const uint8_t *>(stage);
  uint32_t *out = reinterpret_cast<uint32_t *>(dst + first * 32);
  for (int p = threadIdx.x; p < nb * 16; p += 32) {
    const uint8_t *b = s + (p >> 4) * kQ8Bytes;
    const int j = (p & 15) * 2;
    const float d = __half2float(*reinterpret_cast<const __half *>(b));
    out[p] = q8_pair_to_half2(int8_t(b[2 + j]), int8_t(b[3 + j]), d);
  }
}

template <bool kStreaming>
__global__ void __launch_bounds__(256) q8_0_f16_b(const uint8_t *__restrict__ src, __half *__restrict__ dst,
                                                  int64_t nblocks) {
  const int64_t first = (int64_t(blockIdx.x) * 256 + threadIdx.x) * 8;
  if (first >= nblocks) return;
  if (first + 8 <= nblocks) {
    uint4 r[17];
    const uint4 *in = reinterpret_cast<const uint4 *>(src + first * kQ8Bytes);
#pragma unroll
    for (int v = 0; v < 17; ++v) r[v] = __ldg(in + v);
    const uint8_t *bytes = reinterpret_cast<const uint8_t *>(r);
    uint4 *out = reinterpret_cast<uint4 *>(dst + first * 32);
#pragma unroll
    for (int v = 0; v < 32; ++v) {  // 8 outputs: block v/4, elements (v%4)*8 ...
      const uint8_t *b = bytes + (v / 4) * kQ8Bytes;
      const int j = (v % 4) * 8;
      const float d = __half2float(__ushort_as_half(uint16_t(b[0] | (b[1] << 8))));
      const uint4 w = make_uint4(q8_pair_to_half2(int8_t(b[2 + j]), int8_t(b[3 + j]), d),
                                 q8_pair_to_half2(int8_t(b[4 + j]), int8_t(b[5 + j]), d),
                                 q8_pair_to_half2(int8_t(b[6 + j]), int8_t(b[7 + j]), d),
                                 q8_pair_to_half2(int8_t(b[8 + j]), int8_t(b[9 + j]), d));
      if constexpr (kStreaming) __stcs(out + v, w);
      else out[v] = w;
    }
    return;
  }
  for (int64_t blk = first; blk < nblocks; ++blk) {  // the last thread's 1-7 blocks
    const uint8_t *b = src + blk * kQ8Bytes;
    const float d = __half2float(__ushort_as_half(uint16_t(b[0] | (b[1] << 8))));
    for (int j = 0; j < 32; ++j) dst[blk * 32 + j] = __float2half_rn(float(int8_t(b[2 + j])) * d);
  }
}

}  // namespace stream_mix
