# cmake -DSPV=in.spv -DOUT=out.cpp -DNAME=legacy_spv -P embed_spirv.cmake
# Writes the SPIR-V words as a C++ array dq::vulkan::shaders::<NAME> (SPIR-V is a stream of
# little-endian 32-bit words; the array keeps them 4-byte aligned for vkCreateShaderModule).
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR rem "${len} % 8")
if(len EQUAL 0 OR NOT rem EQUAL 0)
  message(FATAL_ERROR "${SPV}: not a SPIR-V word stream (${len} hex digits)")
endif()
# Each 8 hex digits are bytes b0 b1 b2 b3 of one little-endian word: 0xb3b2b1b0.
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," words "${hex}")
math(EXPR count "${len} / 8")
file(WRITE ${OUT}.tmp
  "// Generated from ${SPV} by embed_spirv.cmake. Do not edit.\n"
  "#include <cstddef>\n#include <cstdint>\n"
  "namespace dq::vulkan::shaders {\n"
  "extern const uint32_t ${NAME}[];\nextern const size_t ${NAME}_words;\n"
  "const uint32_t ${NAME}[] = {${words}};\n"
  "const size_t ${NAME}_words = ${count};\n}\n")
file(RENAME ${OUT}.tmp ${OUT})
