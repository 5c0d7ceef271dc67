# Link options that lower outpost-agent's idle memory (docs/benchmarks.md,
# "Idle RSS"), each kept because scripts/idle-footprint.py measured it
# (figures in docs/benchmarks.md):
#   -z pack-relative-relocs  relative relocations as a compact DT_RELR table
#                            (binutils >= 2.38, glibc >= 2.36): fewer pages of
#                            .rela.dyn read at start-up; -0.49 MiB RSS
#   --gc-sections            drops unreferenced sections
# Applied with outpost_footprint_options(<target>) to the agent only.
include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" OUTPOST_HAVE_PACK_RELATIVE_RELOCS)

function(outpost_footprint_options target)
  target_link_options(${target} PRIVATE "-Wl,--gc-sections")
  if(OUTPOST_HAVE_PACK_RELATIVE_RELOCS)
    target_link_options(${target} PRIVATE "-Wl,-z,pack-relative-relocs")
  endif()
endfunction()
