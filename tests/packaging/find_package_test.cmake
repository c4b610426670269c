# Installs the build tree into a fresh prefix, then builds and runs a fresh project against it with
# find_package(wfp CONFIG), and checks the pkg-config file (Cflags compile the header; plugindir holds
# the plugin). Like fmt's test/find-package-test.
# Usage: cmake -DBUILD_DIR= -DWORK_DIR= -DCONSUMER_SOURCE_DIR= -DGENERATOR= -DC_COMPILER=
#              -DPKG_CONFIG= -DEXPECTED_VERSION= -DFROZEN_1_0_INCLUDE= -DABI_MINOR=
#              -P find_package_test.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${cmd}\nexited ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/wfp/plugin_abi.h bin/wfp-host bin/wfp-plugin-check lib/wfp/plugins/libwfp_backfill.so
          share/doc/wfp/examples/minimal_host.c
          share/wfp/openapi.json lib/cmake/wfp/wfpConfig.cmake lib/cmake/wfp/wfpConfigVersion.cmake
          lib/cmake/wfp/wfpTargets.cmake lib/pkgconfig/wfp.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

# Move the installed tree: the package must be relocatable (no absolute path of the first prefix).
set(moved "${WORK_DIR}/moved")
file(RENAME "${prefix}" "${moved}")

# A fresh project against the installed (and moved) tree.
run(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/consumer-build" -G "${GENERATOR}"
    "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_PREFIX_PATH=${moved}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
string(FIND "${out}" "plugin ${moved}/lib/wfp/plugins/libwfp_backfill.so" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the consumer did not find the plugin in the moved tree:\n${out}")
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/consumer-build")
run("${WORK_DIR}/consumer-build/consumer")
message(STATUS "consumer: ${out}")
run("${WORK_DIR}/consumer-build/minimal_host" "${moved}/lib/wfp/plugins/libwfp_backfill.so")
if(NOT out MATCHES "\nstatus 200\n" OR NOT out MATCHES "store sessions=3 attempts=3")
  message(FATAL_ERROR "the installed minimal_host did not serve the backfill:\n${out}")
endif()

# A host of ABI 1.0: the installed example host compiled against the frozen 1.0 header (tables of
# the 1.0 size, no respond_append, no begin_read) serves a real backfill through the installed plugin.
run(${C_COMPILER} -std=c99 -pedantic -Wall -Werror -I "${FROZEN_1_0_INCLUDE}"
    "${moved}/share/doc/wfp/examples/minimal_host.c" -o "${WORK_DIR}/minimal_host_1_0" -ldl)
run("${WORK_DIR}/minimal_host_1_0" "${moved}/lib/wfp/plugins/libwfp_backfill.so")
if(NOT out MATCHES "\nstatus 200\n" OR NOT out MATCHES "store sessions=3 attempts=3")
  message(FATAL_ERROR "a 1.0 host did not get the backfill served by the installed plugin:\n${out}")
endif()

# The installed checker passes the installed plugin as a host of every minor.
foreach(minor RANGE 0 ${ABI_MINOR})
  run("${moved}/bin/wfp-plugin-check" --host-minor ${minor} "${moved}/lib/wfp/plugins/libwfp_backfill.so")
  if(NOT out MATCHES "as a host of ABI 1\\.${minor}\n" OR out MATCHES "FAIL")
    message(FATAL_ERROR "installed wfp-plugin-check --host-minor ${minor}:\n${out}")
  endif()
endforeach()

# The installed host runs and loads the installed plugin (an unauthenticated call: 401 from the host).
run("${moved}/bin/wfp-host" --version)
if(NOT out MATCHES "^wfp-host ${EXPECTED_VERSION}")
  message(FATAL_ERROR "installed wfp-host --version printed '${out}', expected wfp-host ${EXPECTED_VERSION}")
endif()
run("${moved}/bin/wfp-host" call --db :memory: --plugin "${moved}/lib/wfp/plugins/libwfp_backfill.so"
    POST /api/schedules/5/backfill "{}")
string(JSON status GET "${out}" status)
if(NOT status EQUAL 401)
  message(FATAL_ERROR "installed wfp-host call answered ${status}, expected 401:\n${out}")
endif()

# The version file: the same major and an older minor are accepted, another major is refused.
string(REGEX MATCH "^[0-9]+" major "${EXPECTED_VERSION}")
math(EXPR other_major "${major} + 1")
file(WRITE "${WORK_DIR}/major/CMakeLists.txt"
  "cmake_minimum_required(VERSION 3.16)\nproject(m C)\n"
  "find_package(wfp ${major}.0 CONFIG REQUIRED)\n"
  "find_package(wfp ${other_major} CONFIG QUIET)\n"
  "if(wfp_FOUND)\n  message(FATAL_ERROR \"wfp ${other_major} accepted\")\nendif()\n")
run(${CMAKE_COMMAND} -S "${WORK_DIR}/major" -B "${WORK_DIR}/major-build" "-DCMAKE_PREFIX_PATH=${moved}")

# pkg-config.
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config not found (scripts/install-deps.sh installs it)")
endif()
set(ENV{PKG_CONFIG_PATH} "${moved}/lib/pkgconfig")
run(${PKG_CONFIG} --modversion wfp)
string(STRIP "${out}" version)
if(NOT version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "pkg-config --modversion wfp: '${version}', expected ${EXPECTED_VERSION}")
endif()
run(${PKG_CONFIG} --cflags wfp)
string(STRIP "${out}" cflags)
run(${PKG_CONFIG} --variable=plugindir wfp)
string(STRIP "${out}" plugindir)
if(NOT EXISTS "${plugindir}/libwfp_backfill.so")
  message(FATAL_ERROR "pkg-config plugindir '${plugindir}' does not hold libwfp_backfill.so")
endif()
# Compile a translation unit with only the pkg-config flags.
file(WRITE "${WORK_DIR}/pc.c" "#include <wfp/plugin_abi.h>\nint main(void) { return WFP_ABI_VERSION_MAJOR == 1 ? 0 : 1; }\n")
separate_arguments(cflags_list UNIX_COMMAND "${cflags}")
run(${C_COMPILER} -std=c99 -pedantic -Wall -Werror ${cflags_list} "${WORK_DIR}/pc.c" -o "${WORK_DIR}/pc")
run("${WORK_DIR}/pc")
message(STATUS "pkg-config: version ${version}, cflags '${cflags}', plugindir ${plugindir}")
