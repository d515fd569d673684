#!/usr/bin/env python3
"""A seccomp agent for the tests (x86_64): listens on SOCKET for the
runtime's notify fds (linux.seccomp.listenerPath, runtime-spec
"ContainerProcessState") and answers the notifications, as the agent of
runc's own tests does:

- mkdir/mkdirat of PATH: makes PATH-METADATA instead (in the process's
  root and cwd) and reports success;
- chmod/fchmod/fchmodat: fails with ENOMEDIUM ("No medium found");
- anything else: lets the system call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).

Each connection appends one line to LOG: "<fds> <metadata> <state.id>
<state.status> <pid>" (pid: "init" when it is the state's pid, else
"other"). Runs until killed.

    seccomp-agent.py SOCKET LOG
"""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys
import threading

# struct seccomp_notif: u64 id, u32 pid, u32 flags, struct seccomp_data
# {int nr, u32 arch, u64 ip, u64 args[6]} = 80 bytes; the response:
# u64 id, s64 val, s32 error, u32 flags = 24 bytes.
NOTIF = struct.Struct("=QIIiIQ6Q")
RESP = struct.Struct("=QqiI")
IOC_RECV = (3 << 30) | (NOTIF.size << 16) | (ord("!") << 8) | 0
IOC_SEND = (3 << 30) | (RESP.size << 16) | (ord("!") << 8) | 1
FLAG_CONTINUE = 1
MKDIR, MKDIRAT, CHMOD, FCHMOD, FCHMODAT = 83, 258, 90, 91, 268
AT_FDCWD = -100

sock_path, log_path = sys.argv[1], sys.argv[2]
log_lock = threading.Lock()


def read_str(pid, addr):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        data = f.read(4096)
    return data.split(b"\0", 1)[0].decode()


def handle(nfd, metadata):
    while True:
        r, _, _ = select.select([nfd], [], [], 60)
        if not r:
            return
        buf = bytearray(NOTIF.size)
        try:
            fcntl.ioctl(nfd, IOC_RECV, buf, True)
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ENOENT):
                continue
            return  # every process with the filter is gone
        nid, pid, _, nr, _, _, a0, a1, _, _, _, _ = NOTIF.unpack(buf)
        val, err, flags = 0, 0, 0
        try:
            if nr in (MKDIR, MKDIRAT):
                path = read_str(pid, a0 if nr == MKDIR else a1)
                dirfd = a0 if nr == MKDIRAT else AT_FDCWD
                if dirfd != AT_FDCWD and dirfd < 2**31:
                    base = os.readlink("/proc/%d/fd/%d" % (pid, dirfd))
                elif path.startswith("/"):
                    base = ""
                else:
                    base = os.readlink("/proc/%d/cwd" % pid)
                full = os.path.join(base, path)
                os.mkdir("/proc/%d/root/%s-%s" % (pid, full.lstrip("/"), metadata))
            elif nr in (CHMOD, FCHMOD, FCHMODAT):
                err = -errno.ENOMEDIUM
            else:
                flags = FLAG_CONTINUE
        except OSError as e:
            err = -(e.errno or errno.EIO)
        try:
            fcntl.ioctl(nfd, IOC_SEND, RESP.pack(nid, val, err, flags))
        except OSError:
            pass


def serve(conn):
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
    conn.close()
    st = json.loads(msg)
    meta = st.get("metadata", "")
    who = "init" if st.get("pid") == st["state"].get("pid") else "other"
    with log_lock, open(log_path, "a") as f:
        f.write("%s %s %s %s %s\n" % (",".join(st.get("fds", [])), meta or "-", st["state"]["id"],
                                      st["state"]["status"], who))
    for fd in fds[1:]:
        os.close(fd)
    if fds:
        handle(fds[0], meta)
        os.close(fds[0])


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
