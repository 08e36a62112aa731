# Fails the build when a file of oracles/ includes anything but the C++ standard library or
# oracles/ itself. Run as: cmake -DSOURCES="a|b" -DSTAMP=file -P check_std_only.cmake
set(std_headers
  algorithm any array atomic bit bitset cassert cctype cerrno cfenv cfloat charconv chrono cinttypes
  climits clocale cmath complex condition_variable cstddef cstdint cstdio cstdlib cstring ctime
  deque exception functional initializer_list iomanip ios iosfwd iostream istream iterator limits
  list locale map memory mutex new numeric optional ostream queue random ratio regex set sstream
  stack stdexcept streambuf string string_view system_error thread tuple type_traits typeinfo
  unordered_map unordered_set utility valarray variant vector)
string(REPLACE "|" ";" SOURCES "${SOURCES}")
foreach(src IN LISTS SOURCES)
  file(STRINGS "${src}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    if(line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      list(FIND std_headers "${CMAKE_MATCH_1}" found)
      if(found EQUAL -1)
        message(FATAL_ERROR "${src}: oracles/ may include only the C++ standard library, not <${CMAKE_MATCH_1}>")
      endif()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      if(NOT CMAKE_MATCH_1 MATCHES "^oracles/")
        message(FATAL_ERROR "${src}: oracles/ may include only oracles/ headers, not \"${CMAKE_MATCH_1}\"")
      endif()
    endif()
  endforeach()
endforeach()
file(WRITE "${STAMP}" "ok\n")
