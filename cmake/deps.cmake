# deps.cmake — finding maskjit's libraries on a machine with or without
# pkg-config (included by CMakeLists.txt).
#
# mj_find_dep(NAME PCNAME HEADER LIB... [OPTIONAL]) defines the INTERFACE
# target mj_dep_NAME and sets MJ_HAVE_NAME.  With MJ_USE_PKGCONFIG (default ON
# when pkg-config exists) it asks pkg-config for PCNAME; otherwise, or when
# pkg-config does not know it, it looks for HEADER and one of LIB... with
# find_path/find_library, which search CMAKE_PREFIX_PATH first: a GPU machine
# without development packages points MJ_DEPS_PREFIX at a folder of carried
# include/ and lib/ (scripts/gpu_app_prepare.sh).  Without OPTIONAL a missing
# library stops the configure step with a message naming it.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  set(_mj_pc_default ON)
else()
  set(_mj_pc_default OFF)
endif()
option(MJ_USE_PKGCONFIG "Find libraries through pkg-config" ${_mj_pc_default})
set(MJ_DEPS_PREFIX "" CACHE PATH "Folder with include/ and lib/ of carried libraries, searched first")
if(MJ_DEPS_PREFIX)
  list(PREPEND CMAKE_PREFIX_PATH "${MJ_DEPS_PREFIX}")
endif()

function(mj_find_dep name pcname header)
  cmake_parse_arguments(PARSE_ARGV 3 A "OPTIONAL" "" "")
  set(libs ${A_UNPARSED_ARGUMENTS})
  set(tgt mj_dep_${name})
  add_library(${tgt} INTERFACE IMPORTED GLOBAL)
  if(MJ_USE_PKGCONFIG AND PKG_CONFIG_FOUND)
    pkg_check_modules(MJPC_${name} QUIET IMPORTED_TARGET GLOBAL ${pcname})
    if(MJPC_${name}_FOUND)
      target_link_libraries(${tgt} INTERFACE PkgConfig::MJPC_${name})
      set(MJ_HAVE_${name} TRUE PARENT_SCOPE)
      message(STATUS "maskjit: ${name} from pkg-config (${pcname} ${MJPC_${name}_VERSION})")
      return()
    endif()
  endif()
  find_path(MJ_${name}_INCLUDE ${header})
  find_library(MJ_${name}_LIB NAMES ${libs})
  if(MJ_${name}_INCLUDE AND MJ_${name}_LIB)
    target_include_directories(${tgt} INTERFACE ${MJ_${name}_INCLUDE})
    target_link_libraries(${tgt} INTERFACE ${MJ_${name}_LIB})
    set(MJ_HAVE_${name} TRUE PARENT_SCOPE)
    message(STATUS "maskjit: ${name}: ${MJ_${name}_LIB}")
  elseif(A_OPTIONAL)
    set(MJ_HAVE_${name} FALSE PARENT_SCOPE)
    message(STATUS "maskjit: ${name} not found (optional)")
  else()
    message(FATAL_ERROR "maskjit: library ${name} not found: need header ${header} and library "
            "${libs} (Debian: the -dev package of ${pcname}; or -DMJ_DEPS_PREFIX=DIR with DIR/include "
            "and DIR/lib, see scripts/gpu_app_prepare.sh)")
  endif()
endfunction()
