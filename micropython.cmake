# qsota as a MicroPython user C module (CMake ports: esp32, rp2, ...):
#   cmake ... -DUSER_C_MODULES=/path/to/qsota/micropython.cmake -DQSOTA_LIB=/path/to/libqsota.a
# QSOTA_LIB must be built for the port's target (scripts/cross.sh makes the ARM ones under
# build/arm/; the default, build/libqsota.a, is the host's, made by `./build.sh build`).
set(QSOTA_LIB "${CMAKE_CURRENT_LIST_DIR}/build/libqsota.a"
    CACHE FILEPATH "libqsota.a (the qsota core) built for this port's target")

# The Rust core: a prebuilt static library.
add_library(qsota_core STATIC IMPORTED GLOBAL)
set_target_properties(qsota_core PROPERTIES IMPORTED_LOCATION "${QSOTA_LIB}")

# The _qsota module: the C glue over include/qsota.h.
file(GLOB QSOTA_SOURCES "${CMAKE_CURRENT_LIST_DIR}/cmodule/*.c")
add_library(usermod_qsota INTERFACE)
target_sources(usermod_qsota INTERFACE ${QSOTA_SOURCES})
target_include_directories(usermod_qsota INTERFACE
    "${CMAKE_CURRENT_LIST_DIR}/include"
    "${CMAKE_CURRENT_LIST_DIR}/cmodule")
target_link_libraries(usermod_qsota INTERFACE qsota_core)

target_link_libraries(usermod INTERFACE usermod_qsota)
