# Installs the OpenAPI tests' npm packages into NODE_DIR with `npm ci` (exactly the checked-in lock).
# Skips the network when NODE_DIR already holds an install of this very lock.
# Usage: cmake -DNPM=npm -DSOURCE_DIR=tests/openapi -DNODE_DIR=<build>/tests/openapi/node -P npm_ci.cmake
# [-DPROBE=package]: a package whose presence marks a finished install (default ajv; tests/browser
# passes puppeteer-core).
if(NOT PROBE)
  set(PROBE ajv)
endif()
file(MAKE_DIRECTORY "${NODE_DIR}")
file(SHA256 "${SOURCE_DIR}/package-lock.json" lock_hash)
set(stamp "${NODE_DIR}/node_modules/.wfp-lock-sha256")
if(EXISTS "${stamp}")
  file(READ "${stamp}" installed_hash)
  if(installed_hash STREQUAL lock_hash AND EXISTS "${NODE_DIR}/node_modules/${PROBE}/package.json")
    message(STATUS "npm packages up to date in ${NODE_DIR}")
    return()
  endif()
endif()
configure_file("${SOURCE_DIR}/package.json" "${NODE_DIR}/package.json" COPYONLY)
configure_file("${SOURCE_DIR}/package-lock.json" "${NODE_DIR}/package-lock.json" COPYONLY)
execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error WORKING_DIRECTORY "${NODE_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci failed (${rc}) in ${NODE_DIR}: is the npm registry reachable?")
endif()
file(WRITE "${stamp}" "${lock_hash}")
