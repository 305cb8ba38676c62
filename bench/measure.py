"""Runs a bench's peer or MicroPython side to its end and takes the CPU it used."""

import os
import subprocess


def measured(cmd, env=None):
    """Runs `cmd` to its end: (exit status, stdout, stderr, its user + system CPU seconds)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    return os.waitstatus_to_exitcode(status), out, err, usage.ru_utime + usage.ru_stime
