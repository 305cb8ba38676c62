"""Edges of the public API a new user runs into: choosing the backend, a name the package
does not have, a directory or a nameless file object as the source."""

import pytest


def test_use_backend_chooses_and_refuses_what_is_not_a_backend(mp):
    code = (
        "import json, qsota, _qsota\n"
        "from qsota import pure\n"
        "from outcome import attempt\n"
        "rows = [qsota.NATIVE]\n"
        "qsota.use_backend('pure')\n"
        "rows.append([qsota.NATIVE, qsota.Verifier is pure.Verifier,\n"
        "             qsota.YmodemSender is pure.YmodemSender])\n"
        "qsota.use_backend('native')\n"
        "rows.append([qsota.NATIVE, qsota.Verifier is _qsota.Verifier,\n"
        "             qsota.NativeSender is _qsota.NativeSender])\n"
        "rows.append(attempt(qsota.use_backend, 'fast'))\n"
        "rows.append(attempt(qsota.use_backend, 1))\n"
        "print(json.dumps(rows))\n"
    )
    assert mp.json(code, None) == [
        True,
        [False, True, True],
        [True, True, True],
        ["raise", "ValueError", "name: expected 'native' or 'pure', got 'fast'"],
        ["raise", "TypeError", "name: expected str, got int"],
    ]


def test_a_submodule_that_fails_to_import_names_what_is_missing(mp, tmp_path):
    """qsota's submodules load on first use (qsota._lazy): a name that is no submodule is an
    AttributeError, but an ImportError inside a submodule (firmware without `socket`, say)
    must reach the script as it is, naming the missing module."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from qsota._lazy import submodule\n"
        "def __getattr__(name):\n"
        "    return submodule(globals(), name)\n"
    )
    (package / "good.py").write_text("X = 1\n")
    (package / "needs_radio.py").write_text("import radio_that_is_not_here\n")
    code = (
        "import json, sys\n"
        "sys.path.insert(0, %r)\n"
        "import pkg\n"
        "from outcome import attempt\n"
        "rows = [pkg.good.X]\n"
        "for name in ('nothing_here', 'needs_radio'):\n"
        "    rows.append(attempt(getattr, pkg, name))\n"
        "print(json.dumps(rows))\n"
    ) % str(tmp_path)
    assert mp.json(code, None) == [
        1,
        ["raise", "AttributeError", "nothing_here"],
        ["raise", "ImportError", "no module named 'radio_that_is_not_here'"],
    ]


@pytest.mark.parametrize("protocol", ["ymodem", "native"])
def test_a_directory_as_source_is_a_source_error(mp, tmp_path, backend, protocol):
    code = "from start_port import Port\n" + (
        "import json, qsota\n"
        "try:\n"
        "    qsota.send(Port(), %r, protocol=%r)\n"
        "except qsota.TransferError as e:\n"
        "    print(json.dumps([e.code, str(e)]))\n"
    ) % (str(tmp_path), protocol)
    assert mp.json(code, backend) == ["source", "source: %r is a directory" % str(tmp_path)]


def test_a_file_object_without_a_name_is_sent_as_image_bin(mp, backend):
    code = "from start_port import Port\n" + (
        "import io, json, qsota\n"
        "port = Port()\n"
        "try:\n"
        "    qsota.send(port, io.BytesIO(b'x' * 100), header_timeout_ms=1, retries=0)\n"
        "except qsota.TransferError as e:\n"
        "    print(json.dumps([e.code, bytes(port.out[3:13]).decode()]))\n"
    )
    assert mp.json(code, backend) == ["timeout", "image.bin\x00"]
