"""tests/test_http.py: qsota.http's URL parsing and its refusals (JSON)."""

import json
from qsota import http
out = []
for url in ("http://h/", "HTTPS://h:8443/a/b?x=1#frag", "http://u:p%40ss@h:81/f", "http://[::1]:8080/x",
            "http://h?q", "https://[fe80::1]/", "ftp://h/", "http://h:0/", "http://h:x/",
            "http://u:secret@/", "http://h/a b", "http://[::1/"):
    try:
        u = http.Url(url)
        out.append([u.scheme, u.host, u.port, u.hostport, u.path, u.auth])
    except ValueError as e:
        out.append(str(e))
base = http.Url("https://h/a/b/c.bin?v=1")
out.append([base.join(l) for l in ("http://o/x", "//o/y", "/z", "d.bin", "?v=2", "../e")])
out.append(http.redact("http://me:secret@h/p@q"))
print(json.dumps(out))
