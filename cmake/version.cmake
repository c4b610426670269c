# wfp::version: the generated header wfp_version.h, defining WFP_VERSION as the project's version
# (project(VERSION) in the top-level CMakeLists.txt). Every target that names the version links it,
# so no source spells the version out.
configure_file("${CMAKE_CURRENT_LIST_DIR}/version.h.in" "${PROJECT_BINARY_DIR}/generated/wfp_version.h"
               @ONLY)
add_library(wfp_version INTERFACE)
add_library(wfp::version ALIAS wfp_version)
target_include_directories(wfp_version INTERFACE "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>")
