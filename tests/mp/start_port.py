"""tests/test_api_edges.py: a port that answers YMODEM's start ('C') once, keeps what is
written and then stays silent."""

class Port:
    def __init__(self):
        self.out = bytearray()
        self.rx = b'C'
    def write(self, buf):
        self.out += buf
        return len(buf)
    def any(self):
        return len(self.rx)
    def readinto(self, buf, n=None):
        k = len(self.rx)
        buf[:k] = self.rx
        self.rx = b''
        return k
