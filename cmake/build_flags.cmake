# The project's compile flags, per target instead of add_compile_options (which would also reach any
# code added beside wfp). Every target that compiles sources of the project links wfp::build_flags:
#   wfp_warnings  -Wall -Wextra (when wfp is the top-level project; off as a subproject)
#   wfp_sanitize  WFP_SANITIZE=address,undefined|thread: instrumentation, compile and link;
#                 WFP_FUZZ: coverage instrumentation for libFuzzer (the fuzzers add the driver)
# tests/build_flags checks that no compiled target of the project was left without them.
option(WFP_WARNINGS "Compile with -Wall -Wextra" ${PROJECT_IS_TOP_LEVEL})

add_library(wfp_warnings INTERFACE)
if(WFP_WARNINGS)
  target_compile_options(wfp_warnings INTERFACE -Wall -Wextra)
endif()

add_library(wfp_sanitize INTERFACE)
if(WFP_FUZZ)
  # Instrument every library for coverage; the fuzzer executables add the libFuzzer driver.
  target_compile_options(wfp_sanitize INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                -fno-omit-frame-pointer)
  target_link_options(wfp_sanitize INTERFACE -fsanitize=address,undefined)
endif()
if(WFP_SANITIZE)
  target_compile_options(wfp_sanitize INTERFACE -fsanitize=${WFP_SANITIZE} -fno-omit-frame-pointer
                                                -fno-sanitize-recover=all)
  target_link_options(wfp_sanitize INTERFACE -fsanitize=${WFP_SANITIZE})
endif()

add_library(wfp_build_flags INTERFACE)
add_library(wfp::build_flags ALIAS wfp_build_flags)
target_link_libraries(wfp_build_flags INTERFACE wfp_warnings wfp_sanitize)

# wfp_check_build_flags(): lists the targets under the source tree that compile code but do not link
# wfp_build_flags, as a warning, and registers the CTest test build_flags.every_target, which fails
# naming them. Called once, at the end of the top-level CMakeLists.txt.
function(_wfp_collect_targets dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _wfp_collect_targets("${sub}" sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(wfp_check_build_flags)
  _wfp_collect_targets("${PROJECT_SOURCE_DIR}" targets)
  set(missing "")
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      continue()
    endif()
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(NOT libs OR NOT ("wfp::build_flags" IN_LIST libs OR "wfp_build_flags" IN_LIST libs))
      list(APPEND missing ${t})
    endif()
  endforeach()
  if(missing)
    message(WARNING "wfp: these targets do not link wfp::build_flags (cmake/build_flags.cmake): ${missing}")
  endif()
  if(WFP_BUILD_TESTS)
    add_test(NAME build_flags.every_target
      COMMAND ${CMAKE_COMMAND} "-DMISSING=${missing}" -P "${PROJECT_SOURCE_DIR}/cmake/check_build_flags.cmake")
  endif()
endfunction()
