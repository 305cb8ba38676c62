"""Qth: an emulator of Quectel's QuecThing SDK module (`Qth`) and of the platform behind it,
for MicroPython's unix port. Keep this directory OUT of a device's import path: only the demo
and the tests put it on MICROPYPATH.

It implements the calls the SOTA example uses (init, setProductInfo, setServer, setLifetime,
setEventCb, setMcuVer, setAppVer, start, stop, state, otaRequest, otaAction, sendTrans,
sendTsl, ackTsl, ackTslServer) and the platform's rules from Quectel's SOTA guide:
  - a plan reaches a device unless it is blacklisted; with a whitelist only listed devices get
    it; blacklist beats whitelist; a user-confirmed plan only after the user confirmed;
  - a full package is offered to a device whose MCU version differs from the target; a diff
    package only to a device reporting the package's source version;
  - pending plans are pushed every 10 minutes (on a clock sped up by `clock_scale`), and at
    once on `otaRequest()`;
  - after `otaAction(1)` the firmware info goes to the component's info callback (5 or 6
    arguments, as the scenario says); the update ends when the device reports a version with
    `setMcuVer`: success iff it equals the target, told to the result callback.
Callbacks come from the emulator's own thread, as the real SDK's do from its event task.

The scenario is a JSON file named by the environment variable QTH_SCENARIO (see
tools/qth_emu/scenario.py, which writes them). The emulator records what the platform saw in
scenario["state_file"] and ends the process (exit status 0) when the scenario's `end`
condition is met: {"results": N} after N update results, {"refusals": N} after N refused
plans, {"minutes": M} after M platform minutes; or after `timeout_s` real seconds (exit
status 3).
"""

import json
import os
import sys
import time

import _thread

_q = []  # callbacks waiting for the SDK thread: (function, args)
_lock = _thread.allocate_lock()
_events = {}
_mcu = {}  # comp -> [version, infoCb, resultCb]
_sc = None
_state = {"reported": {}, "log": [], "results": [], "refusals": 0}
_plan = {"status": "idle"}  # idle | offered | upgrading | done
_started = False
_online = False


def _load():
    global _sc
    if _sc is None:
        path = os.getenv("QTH_SCENARIO")
        if not path:
            raise OSError("Qth emulator: set QTH_SCENARIO to a scenario file")
        with open(path) as f:
            _sc = json.load(f)
    return _sc


def _record(*entry):
    with _lock:
        _state["log"].append(list(entry))
    # One write per line: print() writes each argument and the newline separately, and
    # another thread's print could land inside the line.
    sys.stdout.write("[platform] %s\n" % " ".join(str(e) for e in entry))
    _save()


def _save():
    path = _sc.get("state_file") if _sc else None
    if path:
        with open(path, "w") as f:
            json.dump(_state, f)


def _post(fn, *args):
    if fn is not None:
        with _lock:
            _q.append((fn, args))


# -- the SDK API -------------------------------------------------------------------------


def init():
    _load()
    return True


def setProductInfo(pk, ps):
    _load()["product"] = [pk, ps]
    return True


def setServer(url):
    return True


def setLifetime(lifetime):
    return True


def setApn(*args):
    return True


def setEventCb(eventlist):
    global _events
    _events = eventlist
    return None


def setAppVer(version, resultCb):
    return None


def setMcuVer(comp_no, version, infoCb, resultCb):
    sc = _load()
    prev = _mcu.get(comp_no)
    _mcu[comp_no] = [version, infoCb, resultCb]
    _state["reported"][comp_no] = version
    if _online:
        _record("report", comp_no, version)
    pkg = sc["package"]
    if _plan["status"] == "upgrading" and comp_no == pkg["comp"] and prev is not None:
        ok = version == pkg["target"]
        _plan["status"] = "done" if ok else "idle"
        _state["results"].append([comp_no, ok])
        _record("result", comp_no, ok)  # before the callback is queued: its print comes later
        _post(resultCb, comp_no, ok)
    return None


def start():
    """Connects: reports the MCU versions, then devEvent (1, 0) and (2, 0)."""
    global _started, _online
    _load()
    if _online:
        return True
    _online = True
    for comp, entry in _mcu.items():
        _record("report", comp, entry[0])
    _post(_events.get("devEvent"), 1, 0)
    _post(_events.get("devEvent"), 2, 0)
    if not _started:
        _started = True
        _thread.start_new_thread(_sdk_thread, ())
    return True


def stop():
    global _online
    _online = False
    return True


def state():
    return 1 if _online else 0


def otaRequest():
    if not _online:
        return False
    _record("otaRequest")
    _offer()
    return True


def otaAction(action):
    if _plan["status"] != "offered":
        _record("otaAction", action, "no plan")
        return False
    _record("otaAction", action)
    if action == 1:
        _plan["status"] = "upgrading"
        pkg = _sc["package"]
        entry = _mcu[pkg["comp"]]
        if _sc.get("sota_info_args", 5) == 6:
            args = (pkg["comp"], pkg["target"], pkg["url"], pkg["size"], pkg["md5"], pkg["crc"])
        else:
            args = (pkg["comp"], pkg["target"], pkg["url"], pkg["md5"], pkg["crc"])
        _record("sotaInfo", *args)
        _post(entry[1], *args)
    else:
        _plan["status"] = "idle"
        _state["refusals"] += 1
        _save()
    return True


def sendTrans(mode, value):
    return True


def sendTsl(mode, value):
    return True


def ackTsl(mode, value, pkgId):
    return True


def ackTslServer(mode, serverId, value, pkgId):
    return True


def emu_device():
    """Emulator only (not in the real SDK): the scenario's device state
    {'battery', 'signal', 'free'}, for qsota.agent's `device` option in tests."""
    d = _load().get("device", {})
    return {"battery": d.get("battery"), "signal": d.get("signal"), "free": d.get("free")}


# -- the platform ------------------------------------------------------------------------


def _eligible():
    """Why the plan is not for this device now, or None if it is."""
    sc = _sc
    plan, pkg = sc.get("plan", {}), sc["package"]
    dk = sc.get("device", {}).get("dk", "")
    if dk in plan.get("blacklist", []):
        return "device %s is blacklisted" % dk
    if plan.get("whitelist") and dk not in plan["whitelist"]:
        return "device %s is not whitelisted" % dk
    if plan.get("mode", "silent") == "confirm" and not plan.get("user_confirmed"):
        return "waiting for the user's confirmation"
    entry = _mcu.get(pkg["comp"])
    if entry is None:
        return "no component %s reported" % pkg["comp"]
    if entry[0] == pkg["target"]:
        return "already at %s" % pkg["target"]
    if pkg.get("type") == "diff" and entry[0] != pkg.get("source"):
        return "diff package for %s, device reports %s" % (pkg.get("source"), entry[0])
    return None


def _offer(push=False):
    """Sends the plan if this device should get it now (a push says nothing otherwise)."""
    if _plan["status"] in ("offered", "upgrading"):
        return
    why = _eligible()
    if why is not None:
        if not push:
            _record("no plan", why)
        return
    pkg, plan = _sc["package"], _sc.get("plan", {})
    src = pkg.get("source") if pkg.get("type") == "diff" else _mcu[pkg["comp"]][0]
    tup = (
        1,
        pkg["comp"],
        src,
        pkg["target"],
        plan.get("min_power", 0),
        plan.get("disk_space", pkg["size"]),
        plan.get("min_signal", 0),
    )
    tup = tup[: plan.get("fields", 7)]  # a malformed plan, for the tests
    _plan["status"] = "offered"
    _record("push" if push else "reply", "otaPlan", *tup)
    ota = _events.get("ota") or {}
    _post(ota.get("otaPlan"), None if plan.get("none") else [tup])


def _finished(now_ms):
    end = _sc.get("end", {})
    if "minutes" in end and now_ms * _sc.get("clock_scale", 600) >= end["minutes"] * 60000:
        return True
    if "results" in end and len(_state["results"]) >= end["results"]:
        return True
    if "refusals" in end and _state["refusals"] >= end["refusals"]:
        return True
    return False


def _exit(status):
    import ffi

    ffi.open("libc.so.6").func("v", "_exit", "i")(status)


def _sdk_thread():
    scale = _sc.get("clock_scale", 600)
    push_every = int(600000 / scale)  # 10 platform minutes, in real milliseconds
    start = time.ticks_ms()
    timeout = int(_sc.get("timeout_s", 120) * 1000)
    next_push = push_every
    while True:
        with _lock:
            job = _q.pop(0) if _q else None
        if job is not None:
            try:
                job[0](*job[1])
            except Exception as e:
                print("[Qth] callback raised:", repr(e))
            continue
        now = time.ticks_diff(time.ticks_ms(), start)
        if _finished(now):
            time.sleep(0.2)  # let the agent's last log lines out
            with _lock:
                pending = len(_q)
            if not pending:  # else deliver what was posted meanwhile, then come back
                _record("end")
                _exit(0)
        if now > timeout:
            _record("timeout")
            _exit(3)
        if now >= next_push:
            next_push += push_every
            _offer(push=True)
        time.sleep(0.02)
