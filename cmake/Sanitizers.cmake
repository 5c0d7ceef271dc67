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
