# Freezes the qsota Python package (python/qsota, with qsota.pure) into a MicroPython
# firmware image, for any port: make ... FROZEN_MANIFEST=/path/to/qsota/manifest.py
# (a port's own manifest can pull it in with include("/path/to/qsota/manifest.py")).
package("qsota", base_path="python")
