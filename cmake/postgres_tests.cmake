# PostgreSQL for the tests: a throwaway cluster (scripts/pg-cluster.sh) that CTest starts and stops as the
# fixture `wfp_postgres` (tests/postgres/CMakeLists.txt registers postgres.cluster_start and
# postgres.cluster_stop). Included from the top CMakeLists.txt before any subdirectory, so that every
# CMakeLists can call wfp_requires_postgres().
#
# Sets, for every directory:
#   WFP_TEST_POSTGRES_ENABLED  ON when the tests get a cluster: WFP_TEST_POSTGRES is on, tests are built and
#                              the server binaries were found (initdb in /usr/lib/postgresql/*/bin)
#   WFP_TEST_POSTGRES_DIR      the cluster's folder: /tmp/wfp-pg-<first 8 hex of MD5(CMAKE_BINARY_DIR)>, short
#                              (the socket path must stay under 100 characters) and one per build folder
#   WFP_TEST_POSTGRES_URL      its libpq URL, known at configure time (the socket is the only way in)
#   WFP_TEST_POSTGRES_TEST_PROPERTIES
#                              the same as wfp_requires_postgres() as a property list, for tests whose names
#                              are not known at configure time: gtest_discover_tests(... PROPERTIES ${...})
#                              (it replaces ENVIRONMENT and FIXTURES_REQUIRED there, not appends)
# and the function wfp_requires_postgres(TEST...): the tests get WFP_TEST_POSTGRES_URL in their environment
# and require the fixture (appended to what they have); without a cluster they are DISABLED (listed as
# "Not Run (Disabled)", not failed). Like set_tests_properties, call it in the directory that added them.
#
# With CI set in the environment, tests built and WFP_TEST_POSTGRES on, a missing server is a configure
# error: CI must run the PostgreSQL suites.
option(WFP_TEST_POSTGRES "Run the PostgreSQL store's tests on a throwaway cluster (needs the PostgreSQL server)"
       ON)

set(WFP_TEST_POSTGRES_ENABLED OFF)
set(WFP_TEST_POSTGRES_PORT 5432) # only names the socket file: the cluster has no TCP listener
string(MD5 _wfp_pg_hash "${CMAKE_BINARY_DIR}")
string(SUBSTRING "${_wfp_pg_hash}" 0 8 _wfp_pg_hash)
set(WFP_TEST_POSTGRES_DIR "/tmp/wfp-pg-${_wfp_pg_hash}")
set(WFP_TEST_POSTGRES_URL "")

if(WFP_TEST_POSTGRES AND WFP_BUILD_TESTS)
  # Debian installs the server under /usr/lib/postgresql/<major>/bin, off PATH; prefer the newest major.
  file(GLOB _wfp_pg_bindirs LIST_DIRECTORIES true "/usr/lib/postgresql/*/bin")
  list(SORT _wfp_pg_bindirs COMPARE NATURAL ORDER DESCENDING)
  find_program(WFP_PG_INITDB NAMES initdb HINTS ${_wfp_pg_bindirs}
               DOC "initdb of the PostgreSQL server that the tests' throwaway cluster runs")
  find_program(WFP_PSQL NAMES psql HINTS ${_wfp_pg_bindirs} DOC "psql, for the PostgreSQL tests")
  set(_wfp_ci "$ENV{CI}")
  if(WFP_PG_INITDB AND WFP_PSQL)
    # The real folder (an initdb on PATH may be a symlink into it): pg_ctl, postgres and pg_isready too.
    get_filename_component(WFP_PG_BINDIR "${WFP_PG_INITDB}" REALPATH)
    get_filename_component(WFP_PG_BINDIR "${WFP_PG_BINDIR}" DIRECTORY)
    set(WFP_TEST_POSTGRES_ENABLED ON)
    set(WFP_TEST_POSTGRES_URL
        "postgresql:///postgres?host=${WFP_TEST_POSTGRES_DIR}&port=${WFP_TEST_POSTGRES_PORT}&user=wfp")
    message(STATUS "PostgreSQL tests: cluster ${WFP_TEST_POSTGRES_DIR} with ${WFP_PG_BINDIR}")
  elseif(_wfp_ci)
    message(FATAL_ERROR "CI is set but the PostgreSQL server (initdb in /usr/lib/postgresql/*/bin) or psql "
                        "was not found: CI must run the PostgreSQL suites. Install the Debian package "
                        "postgresql (scripts/install-deps.sh), or configure with -DWFP_TEST_POSTGRES=OFF "
                        "to leave them out on purpose.")
  else()
    message(STATUS "PostgreSQL tests: no server found (initdb in /usr/lib/postgresql/*/bin) or no psql; "
                   "the PostgreSQL suites are disabled (scripts/install-deps.sh installs postgresql)")
  endif()
endif()
set(WFP_TEST_POSTGRES_URL "${WFP_TEST_POSTGRES_URL}" CACHE INTERNAL "libpq URL of the tests' PostgreSQL cluster")
set(WFP_TEST_POSTGRES_ENABLED "${WFP_TEST_POSTGRES_ENABLED}" CACHE INTERNAL "The tests have a PostgreSQL cluster")

if(WFP_TEST_POSTGRES_ENABLED)
  set(WFP_TEST_POSTGRES_TEST_PROPERTIES
      ENVIRONMENT "WFP_TEST_POSTGRES_URL=${WFP_TEST_POSTGRES_URL}" FIXTURES_REQUIRED wfp_postgres)
else()
  set(WFP_TEST_POSTGRES_TEST_PROPERTIES DISABLED TRUE)
endif()

# wfp_requires_postgres(TEST...): these tests run against the throwaway cluster (see above).
function(wfp_requires_postgres)
  if(NOT ARGN)
    return()
  endif()
  if(WFP_TEST_POSTGRES_ENABLED)
    set_property(TEST ${ARGN} APPEND PROPERTY ENVIRONMENT "WFP_TEST_POSTGRES_URL=${WFP_TEST_POSTGRES_URL}")
    set_property(TEST ${ARGN} APPEND PROPERTY FIXTURES_REQUIRED wfp_postgres)
  else()
    set_property(TEST ${ARGN} PROPERTY DISABLED TRUE)
  endif()
endfunction()
