# Link options that lower outpost-agent's idle memory (docs/benchmarks.md,
# "Idle RSS"), each kept because scripts/idle-footprint.py measured it
# (figures in docs/benchmarks.md):
#   -z pack-relative-relocs  relative relocations as a compact DT_RELR table
#                            (binutils >= 2.38, glibc >= 2.36): fewer pages of
#                            .rela.dyn (150 -> 19 KB) read at start-up;
#                            -0.49 MiB RSS alone (3 runs), 12.59 -> 12.28 with
#                            --gc-sections (7 runs, noise about 0.3)
#   --gc-sections            drops unreferenced sections; with every function
#                            and object in a section of its own (release
#                            builds only, so the dev/asan/tsan caches stay
#                            as they are) the agent's .text is 4.09 -> 3.92
#                            MB; -0.2 MiB RSS (12.73 -> 12.53, 7 runs)
#   -T agent-idle-order.ld   the functions an idle agent runs (start-up, long
#                            polls, health probes; scripts/agent-order-file.py
#                            from callgrind) placed together before the rest
#                            of .text: release builds only, where each
#                            function is a section of its own
# The link options go to the agent only (outpost_footprint_options).
add_compile_options("$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-ffunction-sections>"
                    "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-fdata-sections>")
set(OUTPOST_AGENT_ORDER_FILE "${CMAKE_CURRENT_LIST_DIR}/agent-idle-order.ld")
include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" OUTPOST_HAVE_PACK_RELATIVE_RELOCS)

function(outpost_footprint_options target)
  target_link_options(${target} PRIVATE "-Wl,--gc-sections")
  if(OUTPOST_HAVE_PACK_RELATIVE_RELOCS)
    target_link_options(${target} PRIVATE "-Wl,-z,pack-relative-relocs")
  endif()
  set(release "$<CONFIG:Release,RelWithDebInfo,MinSizeRel>")
  target_link_options(${target} PRIVATE "$<${release}:LINKER:-T,${OUTPOST_AGENT_ORDER_FILE}>")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${OUTPOST_AGENT_ORDER_FILE}")
endfunction()
