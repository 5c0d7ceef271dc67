# Version from project(), commit from git (when there is a checkout), or
# -DOUTPOST_GIT_COMMIT=... (a source tree without .git, e.g. an image build).
if(NOT OUTPOST_GIT_COMMIT)
  execute_process(
    COMMAND git rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    OUTPUT_VARIABLE OUTPOST_GIT_COMMIT
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT OUTPOST_GIT_COMMIT)
  set(OUTPOST_GIT_COMMIT "unknown")
endif()
configure_file(${CMAKE_SOURCE_DIR}/src/version.hpp.in ${CMAKE_BINARY_DIR}/generated/outpost_version.hpp @ONLY)
