# qsota as a MicroPython user C module (make ports). The repository root is the module
# directory: build with USER_C_MODULES=<the directory that contains this repository>.
#
# QSOTA_LIB is the core's static library; the default, build/libqsota.a, is the host's, made
# by `./build.sh build` (cargo's staticlib with only the qsota_* symbols global, which is what
# links). Cross builds set it to theirs, e.g.
#   make ... QSOTA_LIB=/path/to/qsota/build/arm/module-cortex-a5/libqsota.a
QSOTA_DIR := $(USERMOD_DIR)
QSOTA_LIB ?= $(QSOTA_DIR)/build/libqsota.a
QSOTA_CFLAGS := -I$(QSOTA_DIR)/include -I$(QSOTA_DIR)/cmodule

# SRC_USERMOD works on every version (newer py/py.mk adds it to SRC_USERMOD_C).
SRC_USERMOD += $(wildcard $(QSOTA_DIR)/cmodule/*.c)
CFLAGS_USERMOD += $(QSOTA_CFLAGS)
# Where this lands on the link line depends on the port: after the objects on unix, as a
# static archive must; ports that put it before them (stm32 >= 1.20, nrf, qemu, samd) need
# QSOTA_LIB added to their own link line.
LDFLAGS_USERMOD += $(QSOTA_LIB)

# Legacy QuecPython (ports/quectel, MicroPython 1.13) reads these names instead.
C_FLAGS_USERMOD += $(QSOTA_CFLAGS)
LD_FLAGS_USERMOD += $(QSOTA_LIB)
