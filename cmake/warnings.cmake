# Warnings for the project's own targets: brelay_warnings(<target>).
function(brelay_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wnon-virtual-dtor -Wimplicit-fallthrough
                                           $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>)
  if(BRELAY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
