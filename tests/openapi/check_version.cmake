# ctest openapi.version: the document's info.version is the project's version (project(VERSION) in
# the top-level CMakeLists.txt), so the two cannot drift. DOCUMENT and EXPECTED are given by CTest.
file(READ "${DOCUMENT}" _doc)
string(JSON _version ERROR_VARIABLE _error GET "${_doc}" info version)
if(_error)
  message(FATAL_ERROR "${DOCUMENT}: no info.version: ${_error}")
endif()
if(NOT _version STREQUAL EXPECTED)
  message(FATAL_ERROR "${DOCUMENT}: info.version is '${_version}', the project's version is '${EXPECTED}'")
endif()
message(STATUS "info.version ${_version} is the project's version")
