# Runs dq-conformance on a deliberately broken plugin and passes only when
#   - dq-conformance exits non-zero, and
#   - its table has a FAIL line for the check EXPECT_FAIL names, and
#   - (when given) the output contains EXPECT_TEXT, and EXPECT_PASS (a later check) passed,
#     which shows the run went on after the failure.
# Usage: cmake -DCONFORMANCE=... -DPLUGIN=... -DEXPECT_FAIL=... [-DEXPECT_TEXT=...]
#        [-DEXPECT_PASS=...] [-DEXTRA_ARGS=a|b] -P expect_failure.cmake
foreach(var CONFORMANCE PLUGIN EXPECT_FAIL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_failure.cmake: ${var} not set")
  endif()
endforeach()

string(REPLACE "|" ";" EXTRA_ARGS "${EXTRA_ARGS}")
execute_process(COMMAND ${CONFORMANCE} --plugin ${PLUGIN} ${EXTRA_ARGS}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}")
if(rc EQUAL 0)
  message(FATAL_ERROR "dq-conformance exited 0 on a broken plugin (${PLUGIN})")
endif()
string(FIND "${out}" "FAIL  ${EXPECT_FAIL} " at)
if(at EQUAL -1)
  message(FATAL_ERROR "no FAIL line for ${EXPECT_FAIL}\nstderr:\n${err}")
endif()
if(DEFINED EXPECT_TEXT)
  string(FIND "${out}" "${EXPECT_TEXT}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "output lacks \"${EXPECT_TEXT}\"")
  endif()
endif()
if(DEFINED EXPECT_PASS)
  string(FIND "${out}" "PASS  ${EXPECT_PASS} " at)
  if(at EQUAL -1)
    message(FATAL_ERROR "no PASS line for ${EXPECT_PASS}: the run did not go on")
  endif()
endif()
