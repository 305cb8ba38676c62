"""qsota.delta_format: what qsota.delta and the pure applier (qsota.pure.delta, .patch) both
need of a delta package's format (docs/delta.md), apart from either: the header's reader and
the applier's piece. So the native backend reads headers without loading the pure applier,
and neither module imports the other.
"""

from .codes import DELTA_MAGIC
from .errors import DeltaError

HEADER_LEN = 64
DIGEST_LEN = 20
EXTENSION_TAG = b"QSD1"
# The core's output piece (src/delta/patch.rs PIECE): the largest piece the applier reads
# from the base or writes to the target.
PIECE = 256


def parse_header(h):
    """(base SHA-256, extension) of a package's 64-byte header `h`; the extension is (base
    size, the first 20 bytes of the target's SHA-256), or None for a package made for ESP.
    DeltaError `magic` or `extension`."""
    if bytes(h[:4]) != DELTA_MAGIC:
        raise DeltaError("magic")
    ext = None
    if any(h[36:HEADER_LEN]):
        if bytes(h[36:40]) != EXTENSION_TAG:
            raise DeltaError("extension")
        ext = (h[40] | h[41] << 8 | h[42] << 16 | h[43] << 24, bytes(h[44:HEADER_LEN]))
    return bytes(h[4:36]), ext
