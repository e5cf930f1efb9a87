# Tests of the CPU fast paths (x86/, arm/, dispatch, thread pool). Included by
# tests/cpu/CMakeLists.txt. The fast sources are compiled here once more, as an object
# library with the same per-file ISA flags as the plugin, so tests can call them directly.
set(DQ_CPU_DIR ${CMAKE_SOURCE_DIR}/plugins/cpu)
set(DQ_CPU_FAST_TEST_SOURCES
  ${DQ_CPU_DIR}/dispatch.cpp ${DQ_CPU_DIR}/isa_preference.cpp ${DQ_CPU_DIR}/thread_pool.cpp
  ${DQ_CPU_DIR}/cpu_features.cpp)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64|i.86")
  file(GLOB DQ_CPU_ISA_SOURCES CONFIGURE_DEPENDS ${DQ_CPU_DIR}/x86/*.cpp)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64|ARM64")
  file(GLOB DQ_CPU_ISA_SOURCES CONFIGURE_DEPENDS ${DQ_CPU_DIR}/arm/*.cpp)
endif()
foreach(src IN LISTS DQ_CPU_ISA_SOURCES)
  if(src MATCHES "_avx2\\.cpp$")
    set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-ffp-contract=off")
  elseif(src MATCHES "_avx512\\.cpp$")
    set_source_files_properties(${src} PROPERTIES
      COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mf16c;-mfma;-ffp-contract=off")
  endif()
endforeach()
# An object library: its strong kernel-set definitions always win over the scalar folder's
# weak "not built" ones, whatever the link order.
add_library(dq_cpu_fast_objects OBJECT ${DQ_CPU_FAST_TEST_SOURCES} ${DQ_CPU_ISA_SOURCES})
target_include_directories(dq_cpu_fast_objects PUBLIC ${DQ_CPU_DIR})
target_link_libraries(dq_cpu_fast_objects PUBLIC dq_common Threads::Threads)

file(GLOB DQ_CPU_FAST_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_fast_*.cpp)
foreach(test_src IN LISTS DQ_CPU_FAST_TESTS)
  get_filename_component(test_name ${test_src} NAME_WE)
  add_executable(${test_name} ${test_src})
  target_link_libraries(${test_name} PRIVATE dq_cpu_fast_objects dq_cpu_scalar dq_test_support)
  target_include_directories(${test_name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  gtest_discover_tests(${test_name} TEST_PREFIX "cpu_fast." DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS cpu_fast)
endforeach()

# The avx2 and avx512 sets timed against each other call by call (not a test: the evidence
# behind plugins/cpu/isa_preference.cpp; see docs/PERFORMANCE.md).
add_executable(dq_cpu_isa_ab ${CMAKE_CURRENT_SOURCE_DIR}/isa_ab_bench.cpp)
target_link_libraries(dq_cpu_isa_ab PRIVATE dq_cpu_fast_objects dq_cpu_scalar)
target_include_directories(dq_cpu_isa_ab PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

# `dq bench` end to end: a host run (with the gguf comparison when the package is there) and,
# when the loader tests' fake asynchronous device plugin is built, the device-memory path.
if(TARGET dq)
  add_test(NAME cpu_fast.dq_bench_host
    COMMAND $<TARGET_FILE:dq> bench --backend cpu --types q4_0,iq2_xxs,bf16 --elements 65536 --repeat 3)
  set_tests_properties(cpu_fast.dq_bench_host PROPERTIES LABELS cpu_fast TIMEOUT 120
    PASS_REGULAR_EXPRESSION "q4_0 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+%.*iq2_xxs.*bf16")
  # tests/loader (added after this folder) defines dq-fakeasync; generator expressions
  # resolve it at generate time.
  if(EXISTS ${CMAKE_SOURCE_DIR}/tests/loader/fake_async_device.cpp)
    add_test(NAME cpu_fast.dq_bench_device_path
      COMMAND $<TARGET_FILE:dq> bench --backend fakeasync --types q4_0 --repeat 1)
    # 256 MiB of output at least (the device rule): kept out of the sanitizer run (label slow).
    set_tests_properties(cpu_fast.dq_bench_device_path PROPERTIES LABELS "cpu_fast;slow" TIMEOUT 300
      ENVIRONMENT "DQ_PLUGIN_PATH=$<TARGET_FILE_DIR:dq-fakeasync>"
      PASS_REGULAR_EXPRESSION "on device 0.*q4_0 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+% +[0-9.]+ +[0-9.]+x")
    # --verbose: each buffer set timed alone under the row; --min-sample-ms 1000 lengthens the
    # copy's samples (a call of ~30 ms here) past the 4 calls a sample has by default.
    add_test(NAME cpu_fast.dq_bench_device_sets
      COMMAND $<TARGET_FILE:dq> bench --backend fakeasync --types q4_0 --repeat 1 --verbose --min-sample-ms 1000)
    set_tests_properties(cpu_fast.dq_bench_device_sets PROPERTIES LABELS "cpu_fast;slow" TIMEOUT 300
      ENVIRONMENT "DQ_PLUGIN_PATH=$<TARGET_FILE_DIR:dq-fakeasync>"
      PASS_REGULAR_EXPRESSION "as many as make it last 1000 ms.*q4_0 row: set0 [0-9.]+ set1 [0-9.]+ min [0-9.]+ max [0-9.]+ GB/s; [0-9]+ calls/sample; events/wall n/a\n  q4_0 copy: set0 [0-9.]+ set1 [0-9.]+ min [0-9.]+ max [0-9.]+ GB/s; ([6-9]|[1-9][0-9]+) calls/sample")
  endif()
endif()
