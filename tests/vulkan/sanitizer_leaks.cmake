# LeakSanitizer over the vulkan plugin on lavapipe (DQ_SANITIZE builds; included by
# CMakeLists.txt): the plugin's own code under ASan + UBSan + LeakSanitizer, label vulkan-lsan,
# which scripts/test.sh runs (docs/VULKAN.md, "Build").
#
# The other entries of this folder keep leak detection off: the Khronos validation layer they
# run under (DQ_VULKAN_VALIDATION=auto) leaks, and the loader unloads it at vkDestroyInstance,
# so LeakSanitizer reports its blocks from "<unknown module>", which no suppression can name.
# These run without the layer (the main build's run has it). With it off, lavapipe (Mesa
# 22.3.6) left nothing behind on 2026-12-05; the preload below keeps the loader and lavapipe
# resident anyway, so a block that a driver keeps only from its statics (an earlier run saw
# 128 such bytes) stays reachable instead of failing the run. No suppressions: every leak
# reported is one to look at.

# Preloaded where found: GCC's ASan runtime first (ASan checks that it is the first library
# loaded), then the loader and lavapipe; elsewhere (clang's static runtime, another driver) the
# entries run without it.
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                OUTPUT_VARIABLE dq_asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
find_library(DQ_LSAN_VULKAN_LOADER NAMES libvulkan.so.1 vulkan)
find_library(DQ_LSAN_LAVAPIPE NAMES vulkan_lvp)
set(dq_lsan_env "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0" "DQ_VULKAN_VALIDATION=0"
    "DQ_VULKAN_CPU=1")
if(IS_ABSOLUTE "${dq_asan_runtime}" AND EXISTS "${dq_asan_runtime}" AND DQ_LSAN_VULKAN_LOADER AND DQ_LSAN_LAVAPIPE)
  list(APPEND dq_lsan_env "LD_PRELOAD=${dq_asan_runtime} ${DQ_LSAN_VULKAN_LOADER} ${DQ_LSAN_LAVAPIPE}")
endif()

# dq_lsan_test(NAME COMMAND... [ENV item...]): one vulkan-lsan entry.
function(dq_lsan_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "COMMAND;ENV")
  add_test(NAME ${name} COMMAND ${arg_COMMAND})
  set(env ${dq_lsan_env} ${arg_ENV})
  set_tests_properties(${name} PROPERTIES LABELS vulkan-lsan TIMEOUT 600 ENVIRONMENT "${env}")
endfunction()

# The defaults (prefetch shaders, the hardware f16 narrowing probe, sub-allocation from blocks):
# every gtest of the device binary, goldens, streams, events, registered memory, batches.
dq_lsan_test(vulkan.lsan COMMAND $<TARGET_FILE:dq_vulkan_tests>)
# Asynchronous allocation over 64 KiB segments, a failed background segment included.
dq_lsan_test(vulkan.lsan-async-alloc
  COMMAND $<TARGET_FILE:dq_vulkan_tests>
          --gtest_filter=VulkanDevice.Async*:VulkanDevice.TensorsAtOdd*:VulkanDevice.SubAlloc*:VulkanDevice.Streams*:VulkanBatch.*
  ENV DQ_VULKAN_ASYNC_ALLOC=1 DQ_VULKAN_SEGMENT_BYTES=65536)
# The narrowing probe through the registry: concurrent first requests, a batch's probe, and a
# probe that fails (the software narrowing kept).
dq_lsan_test(vulkan.lsan-narrow COMMAND $<TARGET_FILE:dq_vulkan_narrow_tests> --gtest_filter=VulkanNarrow.*)
dq_lsan_test(vulkan.lsan-narrow-refused COMMAND $<TARGET_FILE:dq_vulkan_narrow_tests> --gtest_filter=VulkanNarrow.*
  ENV DQ_VULKAN_NARROW_PROBE_FAULT=1)
# The loader through the registry onto the device, with registered windows and staging.
dq_lsan_test(vulkan.lsan-loader
  COMMAND $<TARGET_FILE:dq_vulkan_loader_tests>
          --gtest_filter=LoaderVulkan.EveryModelWithDefaultRouting:LoaderVulkan.GeneratedModelAcrossManySlots:LoaderVulkan.Hybrid*
  ENV TEST_TMPDIR=${dq_vulkan_loader_test_tmp}/)
# The plugin ABI from several threads, batches, memory balance and argument checks.
if(TARGET dq-conformance)
  dq_lsan_test(vulkan.lsan-conformance
    COMMAND dq-conformance --plugin $<TARGET_FILE:dq-vulkan> ${reference_args} --testdata ${DQ_TESTDATA_DIR}
            --filter threads --filter batch --filter memory --filter args --filter errors --filter refuse)
endif()
