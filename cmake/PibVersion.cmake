# The project's version and the git commit it is built from: the one place
# every binary's `--version` (lib/common/version.cpp) and the manifests'
# tool_version come from. Included by the top-level CMakeLists.txt (before
# project()) and by client/CMakeLists.txt when pib-init and pib-agent are
# built standalone (the arm64 cross build).
#
# The commit is read at configure time. CMake re-runs itself when the
# repository's HEAD or the branch it names moves (CMAKE_CONFIGURE_DEPENDS on
# those files), and the commit reaches the compiler only as a definition on
# version.cpp: a new commit recompiles that one file and relinks the programs
# that print it, nothing else. Without a .git directory (a Debian source
# package, a tarball) the commit is "unknown" unless -DPIB_GIT_COMMIT=... says.
include_guard(GLOBAL)

set(PIB_VERSION 0.1.0)
get_filename_component(PIB_VERSION_TOP ${CMAKE_CURRENT_LIST_DIR} DIRECTORY)
set(PIB_VERSION_CPP ${PIB_VERSION_TOP}/lib/common/version.cpp)
set(PIB_GIT_COMMIT "" CACHE STRING "Git commit baked into --version (empty: ask git at configure time)")

# Sets PIB_GIT_COMMIT_RESOLVED in the caller: PIB_GIT_COMMIT when given, else
# the 12-digit abbreviation of HEAD, else "unknown".
function(pib_resolve_git_commit)
  if(PIB_GIT_COMMIT)
    set(PIB_GIT_COMMIT_RESOLVED "${PIB_GIT_COMMIT}" PARENT_SCOPE)
    return()
  endif()
  set(commit unknown)
  # Only this tree's own .git: a source package unpacked inside some other
  # repository must not report that repository's commit.
  find_program(PIB_GIT_EXECUTABLE git)
  if(EXISTS ${PIB_VERSION_TOP}/.git AND PIB_GIT_EXECUTABLE)
    execute_process(COMMAND ${PIB_GIT_EXECUTABLE} -C ${PIB_VERSION_TOP} rev-parse --short=12 HEAD
                    OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND out MATCHES "^[0-9a-f]+$")
      set(commit ${out})
    endif()
    # Re-run CMake when HEAD moves: HEAD itself (checkout), the branch's
    # loose ref and its directory (commit; git renames a lock file there),
    # packed-refs (gc).
    execute_process(COMMAND ${PIB_GIT_EXECUTABLE} -C ${PIB_VERSION_TOP} rev-parse --absolute-git-dir
                    OUTPUT_VARIABLE git_dir RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${PIB_GIT_EXECUTABLE} -C ${PIB_VERSION_TOP} symbolic-ref -q HEAD
                    OUTPUT_VARIABLE ref ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0)
      set(watch ${git_dir}/HEAD ${git_dir}/packed-refs)
      if(ref)
        get_filename_component(ref_dir ${git_dir}/${ref} DIRECTORY)
        list(APPEND watch ${git_dir}/${ref} ${ref_dir})
      endif()
      foreach(f IN LISTS watch)
        if(EXISTS ${f})
          set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
        endif()
      endforeach()
    endif()
  endif()
  set(PIB_GIT_COMMIT_RESOLVED ${commit} PARENT_SCOPE)
endfunction()

# Gives version.cpp, as compiled for each of the given targets, the version
# and the commit. Only that file sees them, so only it recompiles on a commit.
function(pib_version_source)
  pib_resolve_git_commit()
  foreach(target IN LISTS ARGN)
    set_source_files_properties(${PIB_VERSION_CPP} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_DEFINITIONS
      "PIB_VERSION=\"${PIB_VERSION}\";PIB_GIT_COMMIT=\"${PIB_GIT_COMMIT_RESOLVED}\"")
  endforeach()
endfunction()
