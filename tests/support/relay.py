"""A TCP relay that keeps one connection to an MCU simulator (qsota-mcu serves one) across
several module connections, one after another: a module process killed and started again
talks to the same MCU, as a rebooted module does to its UART.

    with Relay(mcu.port) as relay:        # relay.port: where the module connects
        ...                               # relay.to_mcu: bytes forwarded to the MCU so far

What the MCU sends while no module is connected is dropped (a UART nobody reads).
"""

import selectors
import socket
import threading


class Relay:
    def __init__(self, mcu_port):
        self.mcu = socket.create_connection(("127.0.0.1", mcu_port))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.to_mcu = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ)
        sel.register(self.mcu, selectors.EVENT_READ)
        module = None
        while not self._stop:
            for key, _ in sel.select(0.05):
                sock = key.fileobj
                if sock is self.listener:
                    if module is not None:
                        sel.unregister(module)
                        module.close()
                    module, _ = self.listener.accept()
                    sel.register(module, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if sock is self.mcu:
                    if not data:
                        self._stop = True
                    elif module is not None:
                        try:
                            module.sendall(data)
                        except OSError:
                            pass
                elif data:
                    self.to_mcu += len(data)
                    self.mcu.sendall(data)
                else:  # the module went away: wait for the next one
                    sel.unregister(module)
                    module.close()
                    module = None
        if module is not None:
            module.close()

    def close(self):
        self._stop = True
        self._thread.join(5)
        self.listener.close()
        self.mcu.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
