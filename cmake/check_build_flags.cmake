# ctest build_flags.every_target: fails when a target of the project compiles without wfp::build_flags
# (warnings, sanitizers). MISSING is the list that wfp_check_build_flags() found at configure time.
if(MISSING)
  message(FATAL_ERROR "targets without wfp::build_flags (link it: cmake/build_flags.cmake): ${MISSING}")
endif()
message(STATUS "every compiled target links wfp::build_flags")
