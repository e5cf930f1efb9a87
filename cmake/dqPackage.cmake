# Install-tree package files: dq::core for find_package(dq) (dqConfig.cmake,
# dqConfigVersion.cmake, dqTargets.cmake) and dq.pc for pkg-config. Both locate the prefix
# relative to themselves, so an installed prefix can be moved as a whole.
include(CMakePackageConfigHelpers)

set(DQ_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dq)
set(DQ_PKGCONFIG_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(EXPORT dqTargets NAMESPACE dq:: FILE dqTargets.cmake DESTINATION ${DQ_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/dqConfig.cmake.in
  ${CMAKE_BINARY_DIR}/package/dqConfig.cmake
  INSTALL_DESTINATION ${DQ_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR DQ_PLUGIN_INSTALL_DIR)
# 0.x: the SONAME is libdq-core.so.0, so any 0.y.z satisfies a request for 0.y' with y' <= y
# only when the ABI rules of dq.h hold (fields appended, never changed): same major version.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/package/dqConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/package/dqConfig.cmake
              ${CMAKE_BINARY_DIR}/package/dqConfigVersion.cmake
        DESTINATION ${DQ_CMAKE_INSTALL_DIR})

# dq.pc finds the prefix from its own folder (${pcfiledir}): one ".." per component of
# lib/pkgconfig. An absolute CMAKE_INSTALL_LIBDIR cannot be relative: use the prefix as given.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(WARNING "dq: absolute CMAKE_INSTALL_LIBDIR; dq.pc will not be relocatable")
  set(DQ_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  string(REGEX REPLACE "[^/]+" ".." DQ_PC_UP "${DQ_PKGCONFIG_INSTALL_DIR}")
  set(DQ_PC_PREFIX "\${pcfiledir}/${DQ_PC_UP}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/dq.pc.in ${CMAKE_BINARY_DIR}/package/dq.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/package/dq.pc DESTINATION ${DQ_PKGCONFIG_INSTALL_DIR})
