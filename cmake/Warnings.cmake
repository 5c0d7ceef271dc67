# Warnings for project code only (third-party headers come in as SYSTEM).
add_library(outpost_warnings INTERFACE)
target_compile_options(outpost_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(OUTPOST_WERROR)
  target_compile_options(outpost_warnings INTERFACE -Werror)
endif()
