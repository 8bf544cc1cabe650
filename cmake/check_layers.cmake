# The floors and which folders each may include from. Dependencies point down only: common/ at the
# bottom; net/ and storage/ beside each other, never including each other or relay/; relay/ in
# floors (see relay/CMakeLists.txt). A floor may always include its own folder.
#
# Used two ways:
#   - at configure time (the top CMakeLists.txt includes this file with BRELAY_LAYERS_ROOT set to
#     the source tree): a violation stops the configuration, so the build fails;
#   - as a CTest test: cmake -DBRELAY_LAYERS_ROOT=<tree> -P cmake/check_layers.cmake (the layering
#     tests in tests/CMakeLists.txt run it on the source tree and on a tree that breaks the rules).
# Every quoted include of a file below a floor must name a path that starts with an allowed folder;
# a quoted include that names no floor at all is reported too, and so is any path with "." or ".."
# in it. An include in angle brackets is checked when it names a floor (the project root is an
# include directory, so <relay/app/daemon.h> would compile). Every file below the floors' folders
# is read; one that is not a C++ source, header or CMake file is reported, so a .cpp or .hpp cannot
# slip past. tests/ may include anything.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.25)
endif()

set(_floors
  common
  net
  storage
  relay/binlog
  relay/core
  relay/upstream
  relay/downstream
  relay/tools
  relay/checks
  relay/http
  relay/app)
set(_below_core common net storage relay/binlog relay/core)
set(_allowed_common common)
set(_allowed_net common)
set(_allowed_storage common)
set(_allowed_relay/binlog common)
set(_allowed_relay/core common net storage relay/binlog)
set(_allowed_relay/upstream ${_below_core})
set(_allowed_relay/downstream ${_below_core})
set(_allowed_relay/tools ${_below_core})
set(_allowed_relay/checks ${_below_core})
set(_allowed_relay/http ${_below_core} relay/upstream relay/downstream)
set(_allowed_relay/app ${_floors})
# Headers private to their folder: the storage writer's, reader's and recovery's view of the store's
# internals (storage/store_internals.h says why), recovery and the writer's sync thread.
set(_private_headers storage/store_internals.h storage/store_recovery.h storage/sync_thread.h)

# The floor a path (relative to the root) belongs to: the longest floor that is a prefix of it.
function(_brelay_floor_of path out)
  set(best "")
  foreach(floor IN LISTS _floors)
    string(LENGTH "${floor}" n)
    string(SUBSTRING "${path}" 0 ${n} head)
    string(LENGTH "${best}" best_n)
    if(head STREQUAL floor AND n GREATER best_n)
      string(SUBSTRING "${path}" ${n} 1 next)
      if(next STREQUAL "/")
        set(best "${floor}")
      endif()
    endif()
  endforeach()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()

if(NOT BRELAY_LAYERS_ROOT)
  message(FATAL_ERROR "check_layers.cmake: set BRELAY_LAYERS_ROOT to the source tree")
endif()

set(_violations "")
set(_checked 0)
foreach(top common net storage relay)
  file(GLOB_RECURSE _files RELATIVE "${BRELAY_LAYERS_ROOT}" "${BRELAY_LAYERS_ROOT}/${top}/*")
  foreach(file IN LISTS _files)
    if(file MATCHES "(^|/)CMakeLists\\.txt$")
      continue()
    elseif(NOT file MATCHES "\\.(h|cc|h\\.in)$")
      list(APPEND _violations "${file}: not a .h, .cc or .h.in file; name C++ files so (the check reads only those)")
      continue()
    endif()
    _brelay_floor_of("${file}" from)
    if(from STREQUAL "")
      list(APPEND _violations "${file}: lies in no floor (add its folder to cmake/check_layers.cmake)")
      continue()
    endif()
    math(EXPR _checked "${_checked} + 1")
    file(STRINGS "${BRELAY_LAYERS_ROOT}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    foreach(line IN LISTS includes)
      if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<([^>]*)>")
        set(target "${CMAKE_MATCH_1}")
        _brelay_floor_of("${target}" to)
        if(to STREQUAL "")
          continue()  # a system or library header
        endif()
      else()
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*$" "\\1" target "${line}")
        _brelay_floor_of("${target}" to)
      endif()
      if(target MATCHES "(^|/)\\.\\.?/")
        list(APPEND _violations "${file} (${from}) includes \"${target}\": name headers from the root, without . or ..")
      elseif(to STREQUAL "")
        list(APPEND _violations "${file} (${from}) includes \"${target}\", which names no floor")
      elseif(target IN_LIST _private_headers AND NOT to STREQUAL from)
        list(APPEND _violations "${file} (${from}) includes \"${target}\", which is private to ${to}")
      elseif(NOT to STREQUAL from AND NOT to IN_LIST _allowed_${from})
        list(JOIN _allowed_${from} ", " allowed)
        list(APPEND _violations "${file} (${from}) includes \"${target}\" (${to}): ${from} may include only ${allowed}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(_violations)
  list(SORT _violations)
  list(LENGTH _violations n)
  list(JOIN _violations "\n  " text)
  message(FATAL_ERROR "layering: ${n} include(s) point up or sideways (cmake/check_layers.cmake has the rules):\n  ${text}")
endif()
if(CMAKE_SCRIPT_MODE_FILE)
  message(STATUS "layering: ${_checked} files checked, every include points down")
endif()
