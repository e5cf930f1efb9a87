# `dq backends` must list hip as loaded (plugin ABI 1.x) and, without a device, say why in
# the words EXPECT names. Run: cmake -DDQ=<dq> -DEXPECT=<regex> -P check_backends.cmake
execute_process(COMMAND ${DQ} backends OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dq backends exited with ${rc}")
endif()
if(NOT out MATCHES "\nhip +1\\.[0-9]+ +loaded +([0-9]+) ")
  message(FATAL_ERROR "hip is not listed as a loaded backend")
endif()
set(devices ${CMAKE_MATCH_1})
if(devices EQUAL 0 AND NOT out MATCHES "no device: no HIP device: ${EXPECT}")
  message(FATAL_ERROR "hip has no device but does not give the expected reason (${EXPECT})")
endif()
