#version 450
// Device-to-device mem_copy on the compute units (DQ_VULKAN_COPY=shader, shader_copy.cpp):
// 16 bytes per invocation and iteration, grid-stride. Both bindings start at an aligned offset
// below the data; the push constants give how far in (in uvec4s) the copy starts.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };
layout(push_constant) uniform Params {
  uint n_vec4;
  uint src_skew_vec4;
  uint dst_skew_vec4;
} p;

void main() {
  const uint stride = gl_NumWorkGroups.x * 256u;
  for (uint i = gl_GlobalInvocationID.x; i < p.n_vec4; i += stride) dst[p.dst_skew_vec4 + i] = src[p.src_skew_vec4 + i];
}
