# OUTPOST_SANITIZE="address;undefined" or "thread" instruments every target.
if(OUTPOST_SANITIZE)
  list(JOIN OUTPOST_SANITIZE "," _outpost_san)
  add_compile_options(-fsanitize=${_outpost_san} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_outpost_san})
  if("undefined" IN_LIST OUTPOST_SANITIZE)
    add_compile_options(-fno-sanitize-recover=undefined)
    # clang 14's -fsanitize=function cannot emit C++20 coroutines ("Cannot
    # represent a difference across sections"): the fuzz preset needs it off.
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      add_compile_options(-fno-sanitize=function)
    endif()
  endif()
endif()

if("thread" IN_LIST OUTPOST_SANITIZE)
  # TSan does not model std::atomic_thread_fence (GCC says so with -Wtsan, an
  # error under -Werror), so a fence-based hand-off would be reported as a race.
  # Asio's only fences are its handler "fenced blocks" (the real hand-off is the
  # scheduler's mutex, which TSan sees: null blocks here) and its reference
  # counts (release decrement + acquire fence): without std::atomic they use
  # Boost's acq_rel decrement, which TSan does model. This build only; a fence
  # anywhere else still fails it.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK BOOST_ASIO_DISABLE_STD_ATOMIC)
  # GCC's -Wnull-dereference misfires on libstdc++'s shared_ptr once TSan has
  # instrumented it; the dev and asan builds keep the check.
  target_compile_options(outpost_warnings INTERFACE -Wno-null-dereference)
endif()
