"""tests/test_agent.py: setMcuVer's refusals of bad options, one line each."""

import Qth, qsota.agent

def cb(*args):
    pass

for kwargs in ({"port": None}, {"port": print, "protocol": "xmodem"},
               {"port": print, "policy": True}, {"port": print, "retries": -1},
               {"port": print, "pin": "abc"}, {"port": print, "ca": b"junk"},
               {"port": print, "stream": "yes"},
               {"port": print, "stream": True, "protocol": "stm32"},
               {"port": print, "stream": True, "protocol": "native", "keys": [bytes(32)]}):
    try:
        qsota.agent.setMcuVer(Qth, "STM32", "1_0_0", cb, cb, **kwargs)
    except (TypeError, ValueError) as e:
        print(type(e).__name__, e)
try:
    qsota.agent.setMcuVer(Qth, "STM32", "1_0_0", "cb", cb, port=print)
except TypeError as e:
    print(type(e).__name__, e)
