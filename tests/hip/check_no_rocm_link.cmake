# libdq-hip.so must load where ROCm is absent: none of its DT_NEEDED entries may be a ROCm
# library (the device half, which links libamdhip64, is opened at init).
# Run: cmake -DREADELF=<readelf> -DPLUGIN=<libdq-hip.so> -P check_no_rocm_link.cmake
execute_process(COMMAND ${READELF} -d ${PLUGIN} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${PLUGIN} exited with ${rc}")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${out}")
message("${needed}")
if(NOT needed)
  message(FATAL_ERROR "no NEEDED entries read from ${PLUGIN}")
endif()
if(needed MATCHES "amdhip|hsa-runtime|hsakmt|rocm|amd_comgr")
  message(FATAL_ERROR "${PLUGIN} links a ROCm library: it would not load without ROCm")
endif()
