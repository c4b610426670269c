# install(): what `cmake --install <build> --prefix P` puts under P, for host authors and API users.
#   include/wfp/plugin_abi.h               the C ABI (the only thing a host and a plugin share)
#   bin/wfp-host                           the host
#   bin/wfp-plugin-check                   the ABI checker for plugin authors (tools/plugin_check)
#   lib/wfp/plugins/libwfp_backfill.so     the backfill plugin
#   share/wfp/openapi.json                 the route's OpenAPI 3.1 document
#   share/doc/wfp/examples/minimal_host.c  a complete host in plain C99 (dlopen), for host authors
#   lib/cmake/wfp/wfpConfig.cmake, wfpConfigVersion.cmake, wfpTargets.cmake
#                                          find_package(wfp CONFIG): wfp::abi, WFP_BACKFILL_PLUGIN, ...
#   lib/pkgconfig/wfp.pc                   pkg-config: Cflags for the header, variable `plugindir`
# Included once, at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WFP_INSTALL_PLUGINDIR "${CMAKE_INSTALL_LIBDIR}/wfp/plugins" CACHE STRING
    "Where the plugins are installed, relative to the prefix")
set(WFP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/wfp" CACHE STRING
    "Where the CMake package files are installed, relative to the prefix")
set(WFP_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/wfp")

# The ABI version: WFP_ABI_VERSION_MAJOR/MINOR, read from the header by abi/CMakeLists.txt.

# The ABI: an interface target exported as wfp::abi, and its header.
set_target_properties(wfp_abi PROPERTIES EXPORT_NAME abi)
install(TARGETS wfp_abi EXPORT wfpTargets)
install(FILES "${PROJECT_SOURCE_DIR}/abi/include/wfp/plugin_abi.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/wfp" COMPONENT wfp_dev)
install(EXPORT wfpTargets NAMESPACE wfp:: DESTINATION "${WFP_INSTALL_CMAKEDIR}" COMPONENT wfp_dev)

install(TARGETS wfp-host RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT wfp_runtime)
install(TARGETS wfp-plugin-check RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT wfp_dev)
install(TARGETS wfp_backfill LIBRARY DESTINATION "${WFP_INSTALL_PLUGINDIR}" COMPONENT wfp_runtime)
install(FILES "${PROJECT_SOURCE_DIR}/openapi/openapi.json" DESTINATION "${WFP_INSTALL_DATADIR}"
        COMPONENT wfp_runtime)

install(FILES "${PROJECT_SOURCE_DIR}/examples/minimal_host.c" DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples"
        COMPONENT wfp_dev)

# find_package(wfp CONFIG): relocatable paths (PACKAGE_PREFIX_DIR is computed from the file's place).
set(WFP_INSTALL_BACKFILL_PLUGIN "${WFP_INSTALL_PLUGINDIR}/libwfp_backfill.so")
set(WFP_INSTALL_HOST_EXECUTABLE "${CMAKE_INSTALL_BINDIR}/wfp-host")
set(WFP_INSTALL_OPENAPI "${WFP_INSTALL_DATADIR}/openapi.json")
set(WFP_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
set(WFP_INSTALL_EXAMPLESDIR "${CMAKE_INSTALL_DOCDIR}/examples")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/wfpConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/wfpConfig.cmake"
  INSTALL_DESTINATION "${WFP_INSTALL_CMAKEDIR}"
  PATH_VARS WFP_INSTALL_PLUGINDIR WFP_INSTALL_BACKFILL_PLUGIN WFP_INSTALL_HOST_EXECUTABLE
            WFP_INSTALL_OPENAPI WFP_INSTALL_INCLUDEDIR WFP_INSTALL_EXAMPLESDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/cmake/wfpConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/cmake/wfpConfig.cmake"
              "${PROJECT_BINARY_DIR}/cmake/wfpConfigVersion.cmake"
        DESTINATION "${WFP_INSTALL_CMAKEDIR}" COMPONENT wfp_dev)

# pkg-config: relocatable through ${pcfiledir}.
set(_wfp_pkgconfigdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH _wfp_pc_to_prefix "/prefix/${_wfp_pkgconfigdir}" "/prefix")
string(REGEX REPLACE "/$" "" _wfp_pc_to_prefix "${_wfp_pc_to_prefix}")
set(WFP_PC_PREFIX "\${pcfiledir}/${_wfp_pc_to_prefix}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/wfp.pc.in" "${PROJECT_BINARY_DIR}/cmake/wfp.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/cmake/wfp.pc" DESTINATION "${_wfp_pkgconfigdir}" COMPONENT wfp_dev)
