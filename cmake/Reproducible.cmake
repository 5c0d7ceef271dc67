# Reproducible binaries (the release preset turns this on): two builds of the
# same commit in different directories give bit-identical outpost-agent and
# outpost-hub. GCC writes the build directory (DW_AT_comp_dir) and absolute
# include paths into debug information and __FILE__, and the GNU build id is a
# hash over the whole output, so a path difference changes even the stripped
# binary. Both roots are mapped away; the build directory is inside the
# source tree, and GCC applies the last matching map first, so it comes last.
# Nothing in the sources uses __DATE__ or __TIME__ (scripts/check-reproducible.sh
# greps for them); static archives are deterministic by default on Debian.
option(OUTPOST_REPRODUCIBLE "Map source and build paths out of the binaries" OFF)
# ccache would hand the compiler relative paths (../../src/x.cpp,
# generated/x.cpp) where a build without it gives absolute ones, so the
# launcher in CMakeLists.txt turns its path rewriting off in this mode (seen
# in scripts/check-reproducible.sh: .debug_line_str held ../../connectors/...
# and generated/... in the ccache build, connectors/... and ./generated/...
# in the cold one).
if(OUTPOST_REPRODUCIBLE)
  add_compile_options("-ffile-prefix-map=${CMAKE_SOURCE_DIR}/=" "-ffile-prefix-map=${CMAKE_BINARY_DIR}=.")
  add_link_options("-Wl,--build-id=sha1")
endif()
