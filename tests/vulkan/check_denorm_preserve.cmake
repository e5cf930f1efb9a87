# cmake -DGLSLC=glslc -DSHADERS=plugins/vulkan/shaders -P check_denorm_preserve.cmake
# Fails unless every family compiled with -DDQ_DENORM_PRESERVE declares the DenormPreserve
# capability, the SPV_KHR_float_controls extension and "OpExecutionMode %main DenormPreserve 32",
# and the plain compile declares none of them.
foreach(family legacy kquants lowbit iquants float)
  foreach(variant plain preserve)
    set(defines)
    if(variant STREQUAL "preserve")
      set(defines -DDQ_DENORM_PRESERVE)
    endif()
    execute_process(COMMAND ${GLSLC} --target-env=vulkan1.1 ${defines} -I ${SHADERS} -S -o - ${SHADERS}/${family}.comp
                    OUTPUT_VARIABLE asm ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${family}.comp (${variant}): glslc failed: ${err}")
    endif()
    foreach(needle "OpCapability DenormPreserve" "OpExtension \"SPV_KHR_float_controls\""
                   "OpExecutionMode %main DenormPreserve 32")
      string(FIND "${asm}" "${needle}" at)
      if(variant STREQUAL "preserve" AND at EQUAL -1)
        message(FATAL_ERROR "${family}.comp (preserve): no '${needle}' in the module")
      elseif(variant STREQUAL "plain" AND NOT at EQUAL -1)
        message(FATAL_ERROR "${family}.comp (plain): '${needle}' in the module")
      endif()
    endforeach()
  endforeach()
  message(STATUS "${family}: DenormPreserve 32 in the preserve module only")
endforeach()
