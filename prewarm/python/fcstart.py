# SPDX-License-Identifier: MIT
"""fcstart's helper for Python functions (docs/initialized.md).

fcstart mounts this module read-only at /.fcstart/python (on PYTHONPATH) in
the sandboxes of functions deployed with --prewarm started or fork. A
function calls ready() at the end of its init:

    try:
        import fcstart
    except ImportError:
        fcstart = None
    ...                      # imports, models, data
    if fcstart:
        fcstart.ready()      # fork mode: the template waits here
    serve()

Exec mode, and started mode for an HTTP function: ready() returns at once.
Started mode for a classic (stdin/stdout) function: the function was started
ahead with its stdin a socket, its channel; ready() reports ready on it, waits
there for its invocation's stdin, stdout, stderr and environment, puts them
in place and returns into the function, which reads its request. Fork mode:
in the template
ready() never returns; it reports the template ready to fcstart's fork server
(on its stdin, a socket) and forks an instance at each order. Each instance
returns from ready() once it is in a sandbox of its own: it joins the
instance's user, mount, network, IPC, UTS and cgroup namespaces that the fork
server made, is moved into the instance's cgroup by the fork server, becomes
pid 1 of a PID namespace of its own with its own /proc, gets the template's
capability sets back, and then runs the function's code.
"""
import ctypes
import gc
import os
import signal
import socket
import sys

__all__ = ["ready", "forked"]

_forked = False
_served = False  # started mode, a classic function: its invocation came

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND = 32, 4096
PR_CAPBSET_DROP, PR_CAP_AMBIENT = 24, 47
PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL = 2, 4


def forked():
    """True in an instance forked from a template."""
    return _forked


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    for name in ("setns", "unshare", "prctl", "mount", "capset"):
        getattr(libc, name)
    return libc


def _check(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def _caps():
    caps = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                caps[k] = int(v.strip(), 16)
    return caps


def _last_cap():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return 40


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _set_caps(libc, caps, last):
    """The template's capability sets back (joining a user namespace gave a
    full set in it)."""
    for c in range(last + 1):
        if not caps["CapBnd"] >> c & 1:
            _check(libc.prctl(PR_CAPBSET_DROP, c, 0, 0, 0), "drop capability %d" % c)
    hdr = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    for i in range(2):
        data[i].effective = caps["CapEff"] >> (32 * i) & 0xFFFFFFFF
        data[i].permitted = caps["CapPrm"] >> (32 * i) & 0xFFFFFFFF
        data[i].inheritable = caps["CapInh"] >> (32 * i) & 0xFFFFFFFF
    _check(libc.capset(ctypes.byref(hdr), data), "capset")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    for c in range(last + 1):
        if caps["CapAmb"] >> c & 1:
            _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0),
                   "raise ambient %d" % c)


def _proc_mounts():
    """The mounts below /proc (masked and read-only paths), from the
    sandbox's init (pid 1 of the /proc that is mounted now)."""
    out = []
    with open("/proc/1/mountinfo") as f:
        for line in f:
            a = line.split()
            sep = a.index("-")
            root, mp, fstype = a[3], a[4], a[sep + 1]
            if mp.startswith("/proc/"):
                out.append((mp.replace("\\040", " "), fstype, root))
    return out


def _new_proc(libc):
    """A /proc of the instance's own PID namespace, with the sandbox's masked
    and read-only paths made again."""
    below = _proc_mounts()
    b = ctypes.c_char_p
    _check(libc.mount(b(b"proc"), b(b"/proc"), b(b"proc"),
                      ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), None), "mount /proc")
    for mp, fstype, root in below:
        p = mp.encode()
        if fstype == "proc":  # a read-only path
            _check(libc.mount(b(p), b(p), None, ctypes.c_ulong(MS_BIND), None), "bind " + mp)
            _check(libc.mount(None, b(p), None,
                              ctypes.c_ulong(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
                                             MS_NODEV | MS_NOEXEC), None), "read-only " + mp)
        elif os.path.isdir(mp):  # a masked directory
            _check(libc.mount(b(b"tmpfs"), b(p), b(b"tmpfs"),
                              ctypes.c_ulong(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
                              None), "mask " + mp)
        elif os.path.exists(mp):  # a masked file
            _check(libc.mount(b(b"/dev/null"), b(p), None, ctypes.c_ulong(MS_BIND), None),
                   "mask " + mp)


def _instance(ctl, fds, caps, cwd, libc, last):
    """In the forked child: join the instance's sandbox. Returns in the
    instance's process (pid 1 of its PID namespace)."""
    global _forked
    ch, uns, mnt, net, ipc, uts, cgns = fds
    ctl.close()
    chan = socket.socket(fileno=ch)
    try:
        for fd, flag, name in ((uns, CLONE_NEWUSER, "user"), (mnt, CLONE_NEWNS, "mount"),
                               (net, CLONE_NEWNET, "network"), (ipc, CLONE_NEWIPC, "ipc"),
                               (uts, CLONE_NEWUTS, "uts")):
            _check(libc.setns(fd, flag), "join the instance's %s namespace" % name)
            os.close(fd)
        # the fork server learns our pid from the kernel (SO_PASSCRED),
        # checks our namespaces and moves us into the instance's cgroup
        chan.send(b"J")
        if chan.recv(16) != b"C":
            raise OSError("the fork server did not move the instance into its cgroup")
        _check(libc.setns(cgns, CLONE_NEWCGROUP), "join the instance's cgroup namespace")
        os.close(cgns)
        _check(libc.unshare(CLONE_NEWPID), "unshare a PID namespace")
        if os.fork():
            os._exit(0)
        # pid 1 of the instance's PID namespace
        try:
            _new_proc(libc)
        except OSError as e:
            sys.stderr.write("fcstart: instance keeps the sandbox's /proc: %s\n" % e)
        os.chdir(cwd)
        _set_caps(libc, caps, last)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.close(null)
        keep = chan.fileno()
        for fd in [int(f) for f in os.listdir("/proc/self/fd")]:
            if fd > 2 and fd != keep:
                try:
                    os.close(fd)
                except OSError:
                    pass  # the listing's own
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _forked = True
        chan.send(b"R")
        if os.environ.get("FCSTART_MODE") == "classic":
            _invocation(chan)
        chan.close()
    except BaseException as e:
        try:
            chan.send(("E" + str(e)).encode()[:1000])
        finally:
            os._exit(1)


def _invocation(chan):
    """A classic instance: wait for the invocation's stdin, stdout and stderr
    (and its environment, NUL-separated) on the channel."""
    msg, fds, _, _ = socket.recv_fds(chan, 65536, 3)
    if not msg or msg[:1] != b"S" or len(fds) != 3:
        os._exit(0)  # the instance goes before it served
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
        os.close(fd)
    for kv in msg[1:].split(b"\0"):
        k, eq, v = kv.partition(b"=")
        if eq and k:
            os.environb[k] = v


def _reap(ctl):
    """The template: reap its forked children and tell the fork server how
    each ended (a classic instance's exit status is its invocation's)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        try:
            ctl.send(b"X %d %d" % (pid, status))
        except OSError:
            pass


def _started_classic():
    """Started mode, a classic function: ready on the channel (stdin), then
    its invocation's stdio and environment."""
    global _served
    try:
        chan = socket.socket(fileno=os.dup(0))
    except OSError:
        sys.exit("fcstart.ready(): started mode for a classic function, but stdin is not "
                 "fcstart's channel")
    _served = True
    # what the init wrote goes to the function's log, not to the request's answer
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    try:
        chan.send(b"R")
    except OSError:
        os._exit(0)  # the instance goes before it was ready
    _invocation(chan)
    chan.close()


def ready():
    """The end of the function's init. Fork mode: in the template, waits for
    fork orders and never returns; in each instance, returns once it is in
    its own sandbox. Started mode, a classic function: returns with the
    invocation's stdio and environment in place. Other modes: returns at
    once."""
    prewarm = os.environ.get("FCSTART_PREWARM")
    if prewarm == "started" and os.environ.get("FCSTART_MODE") == "classic":
        if not _served:
            _started_classic()
        return
    if prewarm != "fork" or _forked:
        return
    try:
        ctl = socket.socket(fileno=os.dup(0))
    except OSError:
        sys.exit("fcstart.ready(): fork mode, but stdin is not fcstart's control socket")
    tasks = os.listdir("/proc/self/task")
    if len(tasks) != 1:
        sys.exit("fcstart.ready(): the template has %d threads; a Python template must be "
                 "single-threaded when it forks (start threads after ready())" % len(tasks))
    libc = _libc()
    caps, last, cwd = _caps(), _last_cap(), os.getcwd()
    gc.collect()
    gc.freeze()  # instances do not write to every initialized page
    # forked children are reaped, their ends reported
    signal.signal(signal.SIGCHLD, lambda signum, frame: _reap(ctl))
    sys.stdout.flush()
    sys.stderr.flush()
    ctl.send(b"R")
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, 64, 8)
        if not msg:
            os._exit(0)  # the fork server is gone
        if msg[:1] != b"F" or len(fds) != 7:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            _instance(ctl, fds, caps, cwd, libc, last)
            return  # the initialized objects stay frozen: shared pages stay shared
        for fd in fds:
            os.close(fd)
