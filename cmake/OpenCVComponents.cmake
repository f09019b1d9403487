# posestream_find_opencv(COMPONENT ...): imported targets opencv_<component> for the few OpenCV modules
# the project links. OpenCV's own CMake package is used where it is installed; Debian ships it only in
# libopencv-dev, which pulls in every module (Qt 5 and VTK 9 among them, 87 more packages), so without it
# each module is found from the headers and library of its own -dev package (libopencv-core-dev, ...).
function(posestream_find_opencv)
  find_package(OpenCV QUIET COMPONENTS ${ARGN})
  if(OpenCV_FOUND)
    message(STATUS "OpenCV ${OpenCV_VERSION}: from its CMake package")
    return()
  endif()
  find_path(POSESTREAM_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
  if(NOT POSESTREAM_OPENCV_INCLUDE_DIR)
    message(FATAL_ERROR "OpenCV's headers (opencv2/core.hpp) not found: install libopencv-core-dev (scripts/setup)")
  endif()
  foreach(component IN LISTS ARGN)
    find_library(POSESTREAM_OPENCV_${component}_LIBRARY opencv_${component})
    if(NOT POSESTREAM_OPENCV_${component}_LIBRARY OR NOT EXISTS "${POSESTREAM_OPENCV_INCLUDE_DIR}/opencv2/${component}.hpp")
      message(FATAL_ERROR "OpenCV's ${component} module not found: install libopencv-${component}-dev (scripts/setup)")
    endif()
    add_library(opencv_${component} UNKNOWN IMPORTED GLOBAL)
    set_target_properties(opencv_${component} PROPERTIES
      IMPORTED_LOCATION "${POSESTREAM_OPENCV_${component}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${POSESTREAM_OPENCV_INCLUDE_DIR}")
    if(NOT component STREQUAL "core")
      set_property(TARGET opencv_${component} PROPERTY INTERFACE_LINK_LIBRARIES opencv_core)  # Every module uses cv::Mat.
    endif()
  endforeach()
  list(JOIN ARGN ", " modules)
  message(STATUS "OpenCV modules ${modules}: from their -dev packages in ${POSESTREAM_OPENCV_INCLUDE_DIR}")
endfunction()
