# Warnings for project code only (third-party headers come in as SYSTEM).
add_library(outpost_warnings INTERFACE)
target_compile_options(outpost_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(OUTPOST_WERROR)
  target_compile_options(outpost_warnings INTERFACE -Werror)
endif()

# gcc's -Wconversion (implicit narrowing of integers and floats; C++ leaves
# -Wsign-conversion off): every project target but the tests links
# outpost_conversion (docs/architecture.md, "Build flags").
# GCC only: clang's -Wconversion also turns on -Wsign-conversion (fuzz preset).
add_library(outpost_conversion INTERFACE)
target_compile_options(outpost_conversion INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wconversion>)
