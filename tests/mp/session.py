"""Drives a sender through a scripted session and returns the log of its actions, frames as
digests. `answers` are the successive replies to its frames (None: silence, the sender's
timeout passes), or a function of the frame that returns the reply. `compare` prints one
JSON line: [same, steps, the native log's last entry, the pure one's if they differ]."""

import binascii
import hashlib
import json


def session(s, image, answers, steps):
    frame = bytearray(s.frame_size)
    now, log = 0, []
    reply = answers if callable(answers) else _in_turn(answers)
    for _ in range(steps):
        a = s.poll(now, frame)
        if a == 1:
            req = bytes(frame[:s.length])
            log.append(["send", binascii.hexlify(hashlib.sha256(req).digest()).decode()])
            now += 3
            ans = reply(req)
            if ans is not None:
                s.receive(now, ans)
        elif a == 2:
            log.append(["read", s.offset, s.at, s.length])
            frame[s.at:s.at + s.length] = image[s.offset:s.offset + s.length]
            s.provide(s.length)
        elif a == 3:
            log.append(["wait", s.until])
            now = s.until
        else:
            log.append(["end", a, s.error, s.stats(), s.block])
            break
    return log


def _in_turn(answers):
    left = list(answers)
    return lambda req: left.pop(0) if left else None


def compare(native, pure):
    print(json.dumps([native == pure, len(native), native[-1], pure[-1] if native != pure else 0]))
