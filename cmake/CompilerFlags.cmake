add_library(podium_warnings INTERFACE)
target_compile_options(podium_warnings INTERFACE -Wall -Wextra -Werror)
# GCC 12 reports impossible std::string overlaps at -O3 (GCC bug 105329, a -Wrestrict false
# positive inside libstdc++); keep it visible as a warning, not an error.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(podium_warnings INTERFACE -Wno-error=restrict)
endif()

if(PODIUM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # GCC's -Wmaybe-uninitialized is documented to give false positives under
  # -fsanitize=address (it changes inlining); GCC 12 reports one inside Boost.Beast's
  # response parser. Keep it a warning in the sanitizer build; release builds keep it an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-error=maybe-uninitialized)
  endif()
endif()
if(PODIUM_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # GCC warns (-Wtsan) that ThreadSanitizer does not model std::atomic_thread_fence, which
  # Boost.Asio's handler invocation uses; the ordering TSan needs comes from the scheduler's
  # mutex, so those fences cannot hide a race in Podium's code. Not an error in this build.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
endif()

# Helper for the component libraries: warnings on, public include dir.
function(podium_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC} PRIVATE podium_warnings ${ARG_PRIVATE})
endfunction()
