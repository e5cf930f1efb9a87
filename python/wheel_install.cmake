# Install rules of the Python wheel (included by the top-level CMakeLists.txt when
# scikit-build-core builds it). Layout inside the package `dq`:
#   dq/lib/libdq-core.so.0       the core, loaded by dq/_lib.py through ctypes
#   dq/lib/libltdl.so.7          the core's one non-system dependency, so nothing is needed
#                                on the target machine (RPATH $ORIGIN finds it)
#   dq/lib/dq/libdq-<name>.so    plugins (cpu, cuda, vulkan where built): the core searches "dq/" beside itself
#                                (core/registry/plugin_search.cpp)
# Only the component dq_python goes into the wheel (pyproject: install.components).
set(DQ_WHEEL_LIB_DIR dq/lib)

# The core's file is installed as it was built (install(FILES) keeps one file, where
# install(TARGETS) would add the version symlinks a wheel cannot hold), so it is built with
# its install RPATH: exactly $ORIGIN (no padding that would leave an empty, i.e. current
# directory, entry).
set_target_properties(dq-core PROPERTIES INSTALL_RPATH "\$ORIGIN" BUILD_WITH_INSTALL_RPATH ON)
install(FILES $<TARGET_FILE:dq-core> DESTINATION ${DQ_WHEEL_LIB_DIR}
        RENAME libdq-core.so.${PROJECT_VERSION_MAJOR} COMPONENT dq_python)

# libltdl: the real file under its soname ("libltdl.so.7"), read from the file name.
get_filename_component(DQ_LTDL_REAL "${LTDL_LIBRARY}" REALPATH)
get_filename_component(DQ_LTDL_NAME "${DQ_LTDL_REAL}" NAME)
if(DQ_LTDL_NAME MATCHES "^(libltdl\\.so\\.[0-9]+)")
  install(FILES ${DQ_LTDL_REAL} DESTINATION ${DQ_WHEEL_LIB_DIR} RENAME ${CMAKE_MATCH_1}
          COMPONENT dq_python)
else()
  message(WARNING "dq wheel: ${LTDL_LIBRARY} is not a shared libltdl; the wheel will need "
                  "the system's libltdl at run time")
endif()

foreach(plugin cpu cuda vulkan)
  if(TARGET dq-${plugin})
    install(TARGETS dq-${plugin} LIBRARY DESTINATION ${DQ_WHEEL_LIB_DIR}/dq COMPONENT dq_python)
  endif()
endforeach()
