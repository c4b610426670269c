# The ABI matrix: hosts and plugins built against different versions of the ABI header, paired, each
# pairing serving the route cases end to end (pairing.py). The versions: every frozen minor older
# than the current one (../frozen/1.<m>), the current header, and a simulated next minor
# (next_minor_header.py: one more field at the end of every sized struct). The hosts are
# sqlite_host.c built against each version; the plugins are the backfill plugin's sources built
# against each version. A new minor needs nothing here: freeze its header under ../frozen.
# Included from ../CMakeLists.txt (which sets _abi_header, _abi_major, _abi_minor, _frozen_dir).
find_package(Python3 COMPONENTS Interpreter REQUIRED)
# The route cases (seed, request, expected answer and store): the one place the matrix names them.
set(WFP_ABI_MATRIX_ROUTE_CASES "${PROJECT_SOURCE_DIR}/tests/conformance/route-cases.jsonl")

set(_matrix_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_next_dir "${CMAKE_CURRENT_BINARY_DIR}/next")
add_custom_command(OUTPUT "${_next_dir}/wfp/plugin_abi.h"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_next_dir}/wfp"
  COMMAND Python3::Interpreter "${_matrix_dir}/next_minor_header.py" "${_abi_header}"
          "${_next_dir}/wfp/plugin_abi.h"
  DEPENDS "${_abi_header}" "${_matrix_dir}/next_minor_header.py")
add_custom_target(wfp_abi_next_header DEPENDS "${_next_dir}/wfp/plugin_abi.h")

# Versions as "label|include directory|id", oldest first.
set(_versions)
file(GLOB _frozen LIST_DIRECTORIES true RELATIVE "${_frozen_dir}" "${_frozen_dir}/*")
list(SORT _frozen COMPARE NATURAL)
foreach(_v IN LISTS _frozen)
  if(_v MATCHES "^${_abi_major}\\.([0-9]+)$" AND CMAKE_MATCH_1 LESS _abi_minor)
    string(REPLACE "." "_" _id "${_v}")
    set(_minor_${_id} ${CMAKE_MATCH_1})
    list(APPEND _versions "${_v}|${_frozen_dir}/${_v}|${_id}")
  endif()
endforeach()
math(EXPR _next_minor "${_abi_minor} + 1")
set(_minor_current ${_abi_minor})
set(_minor_next ${_next_minor})
set(_current "${_abi_major}.${_abi_minor}")
list(APPEND _versions "${_current}|${PROJECT_SOURCE_DIR}/abi/include|current"
     "${_abi_major}.${_next_minor}-next|${_next_dir}|next")

set(_plugin_dir "${PROJECT_BINARY_DIR}/abi_matrix")
foreach(_entry IN LISTS _versions)
  string(REPLACE "|" ";" _parts "${_entry}")
  list(GET _parts 0 _label)
  list(GET _parts 1 _include)
  list(GET _parts 2 _id)
  set(_label_${_id} "${_label}")
  # The C host of this version.
  set(_host wfp_matrix_host_${_id})
  add_executable(${_host} "${_matrix_dir}/sqlite_host.c")
  target_include_directories(${_host} BEFORE PRIVATE "${_include}")
  target_link_libraries(${_host} PRIVATE SQLite::SQLite3 ${CMAKE_DL_LIBS} wfp::build_flags)
  set_target_properties(${_host} PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF
                        RUNTIME_OUTPUT_DIRECTORY "${_plugin_dir}")
  target_compile_options(${_host} PRIVATE -pedantic -Werror)
  # The backfill plugin of this version (the current one is the plugin itself).
  if(_id STREQUAL "current")
    set(_plugin_target_${_id} wfp_backfill)
  else()
    set(_plugin wfp_backfill_abi_${_id})
    add_library(${_plugin} MODULE "${PROJECT_SOURCE_DIR}/plugin/backfill/plugin.cc")
    target_include_directories(${_plugin} BEFORE PRIVATE "${_include}")
    target_link_libraries(${_plugin} PRIVATE wfp_backfill_core wfp_ui_page wfp::abi_struct
                          wfp::version Boost::headers wfp::build_flags)
    set_target_properties(${_plugin} PROPERTIES PREFIX "lib" LIBRARY_OUTPUT_DIRECTORY "${_plugin_dir}")
    target_link_options(${_plugin} PRIVATE
      "LINKER:--version-script=${PROJECT_SOURCE_DIR}/plugin/backfill/exports.map" "LINKER:--no-undefined")
    set(_plugin_target_${_id} ${_plugin})
  endif()
  if(_id STREQUAL "next")
    add_dependencies(${_host} wfp_abi_next_header)
    add_dependencies(${_plugin} wfp_abi_next_header)
  endif()
  list(APPEND _ids ${_id})
endforeach()

# wfp_abi_matrix_pair(HOST_ID|wfp-host PLUGIN_ID): one CTest test, abi.matrix.host_<v>.plugin_<v>.
function(wfp_abi_matrix_pair host_id plugin_id)
  set(_plugin $<TARGET_FILE:${_plugin_target_${plugin_id}}>)
  set(_args --wfp-host $<TARGET_FILE:wfp-host> --plugin ${_plugin} --plugin-minor ${_minor_${plugin_id}}
            --cases "${WFP_ABI_MATRIX_ROUTE_CASES}")
  if(host_id STREQUAL "wfp-host")
    set(_name "abi.matrix.host_wfp-host_${_label_current}.plugin_${_label_${plugin_id}}")
  else()
    list(APPEND _args --c-host $<TARGET_FILE:wfp_matrix_host_${host_id}>)
    set(_name "abi.matrix.host_c_${_label_${host_id}}.plugin_${_label_${plugin_id}}")
  endif()
  add_test(NAME ${_name} COMMAND Python3::Interpreter "${_matrix_dir}/pairing.py" ${_args})
  set_tests_properties(${_name} PROPERTIES TIMEOUT 900 LABELS abi_matrix)
endfunction()

# Every host version with today's plugin; today's wfp-host with every plugin version; and the two
# far corners (the oldest host with the next plugin, the next host with the oldest plugin).
list(GET _ids 0 _oldest)
foreach(_id IN LISTS _ids)
  wfp_abi_matrix_pair(${_id} current)
  if(NOT _id STREQUAL "current")
    wfp_abi_matrix_pair(wfp-host ${_id})
  endif()
endforeach()
wfp_abi_matrix_pair(${_oldest} next)
wfp_abi_matrix_pair(next ${_oldest})
