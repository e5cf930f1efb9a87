#version 450
// The "SM copy" reference of dq_vulkan_copy_probe: one uvec4 per invocation and iteration,
// grid-stride, so the rate is the memory system's and not the copy engine's.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };
layout(push_constant) uniform Params { uint n_vec4; } p;

void main() {
  const uint stride = gl_NumWorkGroups.x * 256u;
  for (uint i = gl_GlobalInvocationID.x; i < p.n_vec4; i += stride) dst[i] = src[i];
}
