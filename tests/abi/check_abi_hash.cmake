# Fails when abi/include/wfp/plugin_abi.h changed without its version macros changing.
# Usage: cmake -DHEADER=path/to/plugin_abi.h -DRECORD=path/to/plugin_abi.h.sha256 -P check_abi_hash.cmake
# The record holds "<major>.<minor> <sha256 of the header>". After a deliberate ABI change (a bumped
# WFP_ABI_VERSION_MINOR for appended fields, MAJOR for anything else), write the new line it prints.
if(NOT HEADER OR NOT RECORD)
  message(FATAL_ERROR "usage: cmake -DHEADER=... -DRECORD=... -P check_abi_hash.cmake")
endif()
file(READ "${HEADER}" _content)
string(REGEX MATCH "#define[ \t]+WFP_ABI_VERSION_MAJOR[ \t]+([0-9]+)" _m "${_content}")
set(_major "${CMAKE_MATCH_1}")
string(REGEX MATCH "#define[ \t]+WFP_ABI_VERSION_MINOR[ \t]+([0-9]+)" _m "${_content}")
set(_minor "${CMAKE_MATCH_1}")
if(_major STREQUAL "" OR _minor STREQUAL "")
  message(FATAL_ERROR "${HEADER}: no WFP_ABI_VERSION_MAJOR/MINOR definition found")
endif()
file(SHA256 "${HEADER}" _hash)
set(_now "${_major}.${_minor} ${_hash}")

file(READ "${RECORD}" _record)
string(STRIP "${_record}" _record)
if(NOT _record MATCHES "^([0-9]+)\\.([0-9]+) ([0-9a-f]+)$")
  message(FATAL_ERROR "${RECORD}: expected '<major>.<minor> <sha256>', found '${_record}'")
endif()
set(_rec_major "${CMAKE_MATCH_1}")
set(_rec_minor "${CMAKE_MATCH_2}")
set(_rec_hash "${CMAKE_MATCH_3}")

if(_major EQUAL _rec_major AND _minor EQUAL _rec_minor)
  if(NOT _hash STREQUAL _rec_hash)
    message(NOTICE "abi-check: header changed without a version change (still ${_major}.${_minor})")
    message(FATAL_ERROR
      "${HEADER} changed but its version is still ${_major}.${_minor}.\n"
      "An ABI change needs a version change: bump WFP_ABI_VERSION_MINOR when fields or functions are "
      "only appended, WFP_ABI_VERSION_MAJOR (and a new entry symbol) for anything else. "
      "Then record the new line in ${RECORD}.\n"
      "(A comment-only edit also needs the record updated: '${_now}'.)")
  endif()
  message(STATUS "ABI ${_major}.${_minor}: header hash matches the record")
  return()
endif()

if(_major LESS _rec_major OR (_major EQUAL _rec_major AND _minor LESS _rec_minor))
  message(FATAL_ERROR "ABI version went backwards: recorded ${_rec_major}.${_rec_minor}, header says "
                      "${_major}.${_minor}")
endif()
message(NOTICE "abi-check: version changed from ${_rec_major}.${_rec_minor} to ${_major}.${_minor}, record stale")
message(FATAL_ERROR "ABI version changed from ${_rec_major}.${_rec_minor} to ${_major}.${_minor}: "
                    "record the new header in ${RECORD}:\n${_now}")
