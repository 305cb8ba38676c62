"""tests/test_http.py: one qsota.download run with the options in the JSON file argv[1] (JSON
outcome)."""

import gc, json, sys, qsota
from qsota import https
from qsota.download import Download

with open(sys.argv[1]) as f:  # a file: the unix port dies on argv strings over 255 bytes
    opts = json.load(f)

import tls

class FakeUssl:  # QuecPython 1.13's ussl: wrap_socket(sock, server_hostname=...), no CA
    @staticmethod
    def wrap_socket(sock, server_hostname=None):
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = tls.CERT_NONE
        return ctx.wrap_socket(sock, server_hostname=server_hostname)

if opts.get("ussl"):
    https._ussl, https._tls = FakeUssl, None
logs = []

def run(url):
    conf = https.config(opts.get("ca"), opts.get("pin"))
    d = Download(opts["work"] + "/fw", bytearray(4096), logs.append, lambda p: None, tls=conf,
                 retries=opts.get("retries", 3), backoff_ms=10, timeout_s=10)
    md5 = opts.get("md5")
    v, n = d.run(url, ["fw", md5], opts.get("size"), lambda: qsota.Verifier(md5=md5))
    v.check()
    return n

out = {}
try:
    if opts.get("alloc"):
        used = []
        for url in opts["alloc"]:
            run(url)  # warm up: imports, first-use caches
            gc.collect()
            gc.disable()
            before = gc.mem_alloc()
            run(url)
            used.append(gc.mem_alloc() - before)
            gc.enable()
        out["alloc"] = used
    else:
        out["bytes"] = run(opts["url"])
    out["ok"] = True
except Exception as e:
    out.update(ok=False, error=type(e).__name__, stage=getattr(e, "stage", None), msg=str(e))
out["log"] = logs
print(json.dumps(out))
