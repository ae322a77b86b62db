# medallion_web_assets(<target> <name> <dir>): compiles every file under <dir> into <target> as
# one medallion::web::AssetBundle (web/include/medallion/web/assets.h) named <name>, so that a
# role's web app ships inside the `medallion` binary. No download, no tool besides CMake.
#
# Usage (after web/ is added, from any directory):
#
#   medallion_web_assets(medallion_roles patient_app ${CMAKE_SOURCE_DIR}/web/apps/patient)
#
# and in one of <target>'s own sources:
#
#   #include "medallion_web_assets/patient_app.h"   // declares the bundle
#   ... medallion::web::ServeApp(server, patient_app, tls);
#
# or declare it yourself: `extern const medallion::web::AssetBundle patient_app;` (global
# namespace). <name> must be a C identifier, unique in the program.
#
# What is generated (build/<that directory>/medallion_web_assets/<name>.{h,cpp}) at build time
# by `cmake -P generate_asset_bundle.cmake`: the assets sorted by path (relative to <dir>,
# '/'-separated; FindAsset searches them by bisection), each with its media type by extension
# (html, css, js/mjs, svg, png, ico, json, webmanifest, woff2, txt, and a few more; anything else
# is application/octet-stream), its bytes as an unsigned char array and a strong ETag (quoted
# hex of the first 16 bytes of its SHA-256). Files and folders whose name begins with '.' and
# names ending in '~' (editor leftovers) are skipped; a path with a character other than
# letters, digits and . _ - @ + / stops the configure step.
#
# Rebuilds: the file list is globbed with CONFIGURE_DEPENDS (adding or removing a file re-runs
# the configure step at the next build, which rewrites the list file the generator depends on),
# and the generator depends on every file (a changed file regenerates the bundle). The outputs
# are rewritten each time the generator runs.
#
# <target> gets the generated source, the include directory of the generated header and a
# PRIVATE link to medallion::web (so it must use the keyword form of target_link_libraries).

set_property(GLOBAL PROPERTY MEDALLION_WEB_ASSETS_GENERATOR
             "${CMAKE_CURRENT_LIST_DIR}/generate_asset_bundle.cmake")

function(medallion_web_assets target name dir)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "medallion_web_assets: no target '${target}'")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "medallion_web_assets: '${name}' is not a C identifier")
  endif()
  get_filename_component(dir "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT IS_DIRECTORY "${dir}")
    message(FATAL_ERROR "medallion_web_assets: '${dir}' is not a folder")
  endif()
  get_property(generator GLOBAL PROPERTY MEDALLION_WEB_ASSETS_GENERATOR)

  # Optional: SHARED <folder>, whose files join the bundle under "shared/" (what several apps
  # use: the API client, DOM helpers, the style sheet).
  set(roots "${dir}|")
  if(ARGC GREATER 3)
    if(NOT ARGV3 STREQUAL "SHARED" OR NOT ARGC EQUAL 5)
      message(FATAL_ERROR "medallion_web_assets: the optional arguments are SHARED <folder>")
    endif()
    get_filename_component(shared "${ARGV4}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND roots "${shared}|shared/")
  endif()
  set(files "")
  set(lines "")
  foreach(root IN LISTS roots)
    string(FIND "${root}" "|" bar)
    string(SUBSTRING "${root}" 0 ${bar} root_dir)
    math(EXPR after "${bar} + 1")
    string(SUBSTRING "${root}" ${after} -1 prefix)
    file(GLOB_RECURSE all_files CONFIGURE_DEPENDS LIST_DIRECTORIES false "${root_dir}/*")
    foreach(f IN LISTS all_files)
      file(RELATIVE_PATH rel "${root_dir}" "${f}")
      if(rel MATCHES "(^|/)\\." OR rel MATCHES "~$")
        continue()
      endif()
      if(NOT rel MATCHES "^[A-Za-z0-9_.@+/-]+$" OR f MATCHES "[|]")
        message(FATAL_ERROR "medallion_web_assets: '${rel}' in ${root_dir}: a web asset's path may "
                            "hold only letters, digits and . _ - @ + /")
      endif()
      list(APPEND files "${f}")
      list(APPEND lines "${prefix}${rel}|${f}")
    endforeach()
  endforeach()
  list(SORT files)
  list(SORT lines)

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/medallion_web_assets")
  set(list_file "${out_dir}/${name}.files")
  set(out_cpp "${out_dir}/${name}.cpp")
  set(out_h "${out_dir}/${name}.h")
  # The list file changes (and so re-triggers the generator) only when the set of files does.
  string(REPLACE ";" "\n" list_text "${lines}")
  file(WRITE "${list_file}.new" "${list_text}\n")
  configure_file("${list_file}.new" "${list_file}" COPYONLY)

  add_custom_command(
    OUTPUT "${out_cpp}" "${out_h}"
    COMMAND "${CMAKE_COMMAND}" "-DNAME=${name}" "-DDIR=${dir}" "-DLIST_FILE=${list_file}"
            "-DOUT_CPP=${out_cpp}" "-DOUT_H=${out_h}" -P "${generator}"
    DEPENDS ${files} "${list_file}" "${generator}"
    COMMENT "Embedding the web app ${name} (${dir})"
    VERBATIM)
  target_sources(${target} PRIVATE "${out_cpp}" "${out_h}")
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_BINARY_DIR}")
  target_link_libraries(${target} PRIVATE medallion::web)
endfunction()
