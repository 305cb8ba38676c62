"""Child processes that cannot outlive the test or benchmark that started them.

A harness kills its qemu in `finally` or `close()`, but a run killed with SIGKILL (a CI
timeout, a killed pytest) runs neither: its qemu, parent 1, went on eating CPU. On Linux the
kernel can send the child SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG); pass
`preexec_fn=dies_with_parent` to subprocess.Popen. The "parent" is the thread that started
the child: start it from a thread that lives as long as the child should.
"""

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def dies_with_parent():
    """In the child, between fork and exec: SIGKILL when the parent dies. Elsewhere than on
    Linux, nothing (the harnesses' own kill on exit still holds)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
