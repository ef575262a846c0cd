# Warnings for our own targets; third-party headers come in as SYSTEM includes.
function(registry_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Woverloaded-virtual -Wimplicit-fallthrough)
  if(REGISTRY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # g++ 12 at -O3 (the Release build of `make bench`) warns -Wrestrict inside libstdc++ for
    # "literal" + std::string&& (GCC bug 105329, a false positive): it stays a warning.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
endfunction()
