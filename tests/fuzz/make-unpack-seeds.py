#!/usr/bin/env python3
"""make-unpack-seeds.py: (re)write the seed tar streams of fuzz-unpack in
corpus/unpack/: ordinary layers, whiteouts, and the escapes a hostile layer
tries (.., absolute names, through symbolic links, hard links out, replacing
a directory by a link). Each stream is cut after its two end-of-archive
blocks, so the seeds stay small."""
import io
import os
import subprocess
import sys
import tarfile
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "unpack")


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, uid=0, gid=0, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = link
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = 1700000000
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti, data


def d(name, mode=0o755):
    return entry(name, tarfile.DIRTYPE, mode=mode)


def f(name, data=b"x\n", mode=0o644, **kw):
    return entry(name, data=data, mode=mode, **kw)


def sym(name, target):
    return entry(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name, target):
    return entry(name, tarfile.LNKTYPE, link=target)


def write(fname, entries, fmt=tarfile.USTAR_FORMAT, pax=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax or {}) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data else None)
    raw = buf.getvalue()
    end = len(raw)
    while end >= 512 and raw[end - 512:end] == bytes(512):
        end -= 512
    with open(os.path.join(OUT, fname), "wb") as o:
        o.write(raw[:end] + bytes(1024))


def main():
    os.makedirs(OUT, exist_ok=True)
    write("basic.tar", [
        d("./"), d("bin/"), f("bin/busybox", b"\x7fELF busybox\n", 0o755),
        sym("bin/sh", "busybox"), hard("bin/ls", "bin/busybox"),
        d("etc/"), f("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
        f("etc/group", b"root:x:0:\napp:x:1000:\n"),
        d("tmp/", 0o1777), entry("run/fifo", tarfile.FIFOTYPE, mode=0o600),
        f("usr/bin/su", b"#!/bin/sh\n", 0o4755, uid=0, gid=0),
        f("home/app/.profile", b"export A=1\n", uid=1000, gid=1000, uname="app", gname="app"),
    ])
    write("whiteouts.tar", [
        d("etc/"), f("etc/.wh.passwd", b""), d("var/"), f("var/.wh..wh..opq", b""),
        f(".wh..wh.plnk/1234", b""), f("usr/.wh.lib", b""), f(".wh..wh..opq", b""),
        f("new/dir/.wh..wh..opq", b""),
    ])
    write("whiteout-empty.tar", [f(".wh.", b"")])
    # one escape attempt per seed: an unpack stops at the first refused entry
    escapes = {
        "dotdot": [f("../outside/escaped")],
        "dotdot-inner": [f("a/b/../../../y")],
        "absolute": [f("/outside/abs"), f("//./outside//abs2"), f("/", b"")],
        "symlink-rel": [sym("evil", "../outside"), f("evil/pwned")],
        "symlink-abs": [sym("abs", "/proc/self/cwd"), f("abs/pwned")],
        "symlink-loop": [sym("loop", "loop"), f("loop/x")],
        "symlink-up": [d("sub/"), sym("sub/up", "../.."), f("sub/up/outside/pwned")],
        "symlink-file": [sym("canary", "../outside/canary"), f("canary", b"overwritten\n", 0o600)],
        "symlink-dir": [sym("z", "../outside/dir"), d("z/"), f("z/file")],
        "hardlink-dotdot": [hard("h", "../outside/canary")],
        "hardlink-symdir": [sym("dd", "../outside"), hard("h", "dd/canary")],
        "hardlink-abs": [hard("h", "/proc/self/cwd/canary")],
        "hardlink-symlink": [sym("s", "../outside/canary"), hard("h", "s")],
        "hardlink-dir": [d("dir/"), hard("h", "dir")],
        "hardlink-self": [f("a"), hard("a", "a")],
        "whiteout-symdir": [sym("w", "../outside"), f("w/.wh.canary", b"")],
        "opaque-symdir": [sym("w", "../outside"), f("w/.wh..wh..opq", b"")],
        "device": [entry("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)],
        "device-whiteout": [entry("dev/gone", tarfile.CHRTYPE, mode=0, devmajor=0, devminor=0)],
    }
    for name, ents in escapes.items():
        write("escape-%s.tar" % name, ents)
    # a later entry replaces what an earlier one made (regression: replacing
    # a directory used the parent's descriptor after closing it)
    write("replace-dir.tar", [d("x/"), f("x/in"), f("x", b"now a file\n")])
    write("replace.tar", [
        f("x"), d("x/"), f("x/in"), sym("x", "../outside"), f("x", b"again\n"),
        d("y/"), f("y/z"), sym("y", "x"),
        f("h", b"target\n"), d("k/"), hard("k", "h"), d("k2/"), f("k2/.wh..wh..opq", b""),
        f("k2", b""), entry("k2", tarfile.FIFOTYPE, mode=0o600),
    ])
    long = "deep/" + "/".join(["component%02d" % i for i in range(12)]) + "/file"
    write("pax.tar", [
        f(long, b"long name\n"), sym("deep/link", long), hard("deep/hard", long),
        f("xattrs", b"caps\n", 0o755, pax_headers={
            "SCHILY.xattr.user.comment": "hello",
                        "SCHILY.xattr.trusted.overlay.opaque": "y",
            "mtime": "1700000000.123456789", "atime": "1600000000.5"}),
        f("uids", b"", uid=2**31 - 1, gid=65534),
    ], fmt=tarfile.PAX_FORMAT, pax={"comment": "global header"})
    write("gnu.tar", [
        f("g" * 150, b"gnu long name\n"), sym("l" * 120, "t" * 130),
        hard("hl", "g" * 150), d("gdir/"),
    ], fmt=tarfile.GNU_FORMAT)
    # sparse files: GNU tar's old GNU format ('S' headers) and pax 1.0
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "sparse")
        with open(p, "wb") as s:
            for off in (0, 65536, 200000):
                s.seek(off)
                s.write(b"data at %d\n" % off)
            s.truncate(262144)
        for fmt, name in (("oldgnu", "sparse-gnu.tar"), ("posix", "sparse-pax.tar")):
            raw = subprocess.run(["tar", "--format=" + fmt, "--sparse", "--owner=0", "--group=0",
                                  "--mtime=@1700000000", "-C", tmp, "-cf", "-", "sparse"],
                                 check=True, capture_output=True).stdout
            end = len(raw)
            while end >= 512 and raw[end - 512:end] == bytes(512):
                end -= 512
            with open(os.path.join(OUT, name), "wb") as o:
                o.write(raw[:end] + bytes(1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
