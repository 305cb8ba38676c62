"""Sockets with a small receive buffer for qsota.http, in the tests that count the bytes the
file server sent (tools/qth_emu/fileserver.py, `sndbuf=`): on loopback Linux buffers hundreds
of KB a client never reads, where a module's TCP window is a few KB. `import small_tcp`
before the download; SO_RCVBUF (Linux doubles it) is set before connect."""

import qsota.http

RCVBUF = 4096


class _Socket:
    """The socket module as qsota.http uses it, with small receive buffers."""

    def __init__(self, module):
        self._module = module
        self.getaddrinfo = module.getaddrinfo
        self.SOCK_STREAM = module.SOCK_STREAM

    def socket(self, *args):
        s = self._module.socket(*args)
        s.setsockopt(1, 8, RCVBUF)  # SOL_SOCKET, SO_RCVBUF (Linux)
        return s


qsota.http.socket = _Socket(qsota.http.socket)
