# The vulkan plugin's two shader paths and its DenormPreserve modules
# (plugins/vulkan/shaders/common.glsl, plugins/vulkan/pipelines.cpp); included by CMakeLists.txt.

# The per-element path forced (DQ_VULKAN_PATH=per-element): the same device tests as the
# default (prefetch) run path (every golden to f32/f16/bf16, odd counts, multi-chunk tensors, odd
# offsets in device memory), and again over 64 KiB segments (chunks starting inside blocks).
add_test(NAME vulkan.per-element-path
         COMMAND dq_vulkan_tests --gtest_filter=VulkanDevice.*)
set_tests_properties(vulkan.per-element-path PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_PATH=per-element;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")
add_test(NAME vulkan.per-element-path-segments
         COMMAND dq_vulkan_tests --gtest_filter=VulkanDevice.TensorsAtOddOffsets*:VulkanDevice.OddCounts*)
set_tests_properties(vulkan.per-element-path-segments PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_PATH=per-element;DQ_VULKAN_SEGMENT_BYTES=65536;DQ_VULKAN_HOST_IMPORT=0;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")

# The DenormPreserve modules (used where a device reports shaderDenormPreserveFloat32, as
# NVIDIA's does) forced on lavapipe, which reports false: they must load and give the goldens.
# Validation off, since the layer rightly flags the capability where the property is false.
add_test(NAME vulkan.denorm-preserve-modules
         COMMAND dq_vulkan_tests
                 --gtest_filter=VulkanDevice.MatchesEveryGolden*:VulkanDevice.Q8K*:VulkanDevice.OddCounts*:VulkanDevice.TensorsAtOddOffsets*)
set_tests_properties(vulkan.denorm-preserve-modules PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_DENORM_PRESERVE=force;DQ_VULKAN_VALIDATION=0;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")

# The exact integer products for subnormal Q8_K/MXFP4 scales (common.glsl DENORM_MODE):
# forced (DQ_VULKAN_DENORM_EXACT=1), and chosen by the probe where the float products flush
# (DQ_VULKAN_ASSUME_DENORM_FLUSH=1 flushes them in the shader as NVIDIA does, so only the exact
# products can pass), both paths: the goldens to f32/f16/bf16, odd counts and offsets, and the
# subnormal-scale blocks of both types must match the cpu plugin bit for bit.
set(dq_denorm_exact_filter
    "VulkanDevice.MatchesEveryGolden*:VulkanDevice.Q8K*:VulkanDevice.Mxfp4*:VulkanDevice.OddCounts*:VulkanDevice.TensorsAtOddOffsets*")
add_test(NAME vulkan.denorm-exact COMMAND dq_vulkan_tests --gtest_filter=${dq_denorm_exact_filter})
set_tests_properties(vulkan.denorm-exact PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_DENORM_EXACT=1;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")
add_test(NAME vulkan.denorm-exact-simulated-flush COMMAND dq_vulkan_tests --gtest_filter=${dq_denorm_exact_filter})
set_tests_properties(vulkan.denorm-exact-simulated-flush PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_ASSUME_DENORM_FLUSH=1;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")
add_test(NAME vulkan.denorm-exact-simulated-flush-per-element
         COMMAND dq_vulkan_tests --gtest_filter=VulkanDevice.MatchesEveryGolden*:VulkanDevice.Q8K*:VulkanDevice.Mxfp4*)
set_tests_properties(vulkan.denorm-exact-simulated-flush-per-element PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_ASSUME_DENORM_FLUSH=1;DQ_VULKAN_PATH=per-element;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")

# Each family's preserve module carries OpCapability DenormPreserve and OpExecutionMode
# DenormPreserve 32; the plain module neither (glslc's disassembly, the build's flags).
if(DQ_VULKAN_GLSLC AND DQ_VULKAN_SHADER_DIR)
  add_test(NAME vulkan.denorm-preserve-spirv
           COMMAND ${CMAKE_COMMAND} -DGLSLC=${DQ_VULKAN_GLSLC} -DSHADERS=${DQ_VULKAN_SHADER_DIR}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/check_denorm_preserve.cmake)
endif()

# Both paths against the cpu plugin in one process (DQ_VULKAN_PATH switched per call): every
# 16-bit pattern through F16/BF16, and one type per family and decode8 branch.
add_executable(dq_vulkan_path_tests vulkan_paths_test.cpp)
target_include_directories(dq_vulkan_path_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/cuda)
target_link_libraries(dq_vulkan_path_tests PRIVATE dq_test_support ${CMAKE_DL_LIBS})
add_dependencies(dq_vulkan_path_tests dq-vulkan dq-cpu)
# With the default narrowing (hardware on lavapipe) and with the software one.
add_test(NAME vulkan.paths COMMAND dq_vulkan_path_tests)
set_tests_properties(vulkan.paths PROPERTIES TIMEOUT 600 ENVIRONMENT "DQ_VULKAN_CPU=1;${dq_sanitizer_env}")
add_test(NAME vulkan.paths-narrow-sw COMMAND dq_vulkan_path_tests)
set_tests_properties(vulkan.paths-narrow-sw PROPERTIES TIMEOUT 600
  ENVIRONMENT "DQ_VULKAN_NARROW=sw;DQ_VULKAN_CPU=1;${dq_sanitizer_env}")
