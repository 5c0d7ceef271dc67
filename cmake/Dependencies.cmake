# Every dependency comes from Debian 12 packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(prometheus-cpp REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(MARIADB IMPORTED_TARGET libmariadb)
pkg_check_modules(ODBC IMPORTED_TARGET odbc)
# libdeflate (Debian libdeflate-dev): whole-buffer gzip for result parts.
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)

# spdlog (log.cpp only) and fmt (log.cpp and container_limits.cpp only) are
# compiled into those files from their headers, and yaml-cpp (the sources
# file only) is linked from Debian's static archive: the agent then maps no
# libspdlog, libfmt or libyaml-cpp, whose relocated data and touched pages
# counted 0.9 MiB of an idle agent's RSS (docs/benchmarks.md, "Idle RSS").
add_library(outpost_fmt INTERFACE)
target_link_libraries(outpost_fmt INTERFACE fmt::fmt-header-only)
add_library(outpost_spdlog INTERFACE)
get_target_property(_spdlog_includes spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
target_include_directories(outpost_spdlog SYSTEM INTERFACE ${_spdlog_includes})
target_compile_definitions(outpost_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
target_link_libraries(outpost_spdlog INTERFACE outpost_fmt Threads::Threads)
find_library(YAML_CPP_ARCHIVE NAMES libyaml-cpp.a)
add_library(outpost_yaml_cpp INTERFACE)
if(YAML_CPP_ARCHIVE)
  get_target_property(_yaml_includes yaml-cpp INTERFACE_INCLUDE_DIRECTORIES)
  if(_yaml_includes)
    target_include_directories(outpost_yaml_cpp SYSTEM INTERFACE ${_yaml_includes})
  endif()
  target_link_libraries(outpost_yaml_cpp INTERFACE ${YAML_CPP_ARCHIVE})
else()
  target_link_libraries(outpost_yaml_cpp INTERFACE yaml-cpp)
endif()

# Asio and Beast are compiled once, in src/http/asio_impl.cpp; every TU that
# includes them must agree on these definitions.
add_library(outpost_boost INTERFACE)
target_link_libraries(outpost_boost INTERFACE Boost::headers OpenSSL::SSL OpenSSL::Crypto
                      ZLIB::ZLIB Threads::Threads)
target_compile_definitions(outpost_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

# cctz (Debian libcctz-dev): IANA time zones from the system tz database for
# the hub's cron schedules. Debian ships no CMake or pkg-config file for it.
find_path(CCTZ_INCLUDE_DIR cctz/time_zone.h REQUIRED)
find_library(CCTZ_LIBRARY cctz REQUIRED)
add_library(outpost_cctz INTERFACE)
target_include_directories(outpost_cctz SYSTEM INTERFACE ${CCTZ_INCLUDE_DIR})
target_link_libraries(outpost_cctz INTERFACE ${CCTZ_LIBRARY})
