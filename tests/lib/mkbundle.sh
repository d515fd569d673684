#!/bin/sh
# mkbundle.sh DIR [ARG...]: make an OCI runtime bundle in DIR from Debian's
# busybox-static (no network): DIR/rootfs with busybox and its applet links,
# DIR/config.json like `runc spec` (terminal off) running ARG... (default: sh).
# Environment: FC_BUNDLE_NETNS=0 leaves out the network namespace.
set -eu
dir=${1:?usage: mkbundle.sh DIR [ARG...]}
shift
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkbundle.sh: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }
if ! "$bb" 2>&1 | head -n1 | grep -q .; then echo "mkbundle.sh: $bb does not run" >&2; exit 1; fi
if ldd "$bb" >/dev/null 2>&1; then
	echo "mkbundle.sh: $bb is not static (apt-get install busybox-static)" >&2; exit 1
fi
mkdir -p "$dir/rootfs"
r="$dir/rootfs"
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" "$r/var/www"
chmod 1777 "$r/tmp"
cp "$bb" "$r/bin/busybox"
for a in $("$bb" --list); do
	[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
printf '127.0.0.1 localhost\n' > "$r/etc/hosts"
: > "$r/etc/resolv.conf"

args='"sh"'
if [ $# -gt 0 ]; then
	args=""
	for a in "$@"; do
		esc=$(printf '%s' "$a" | sed 's/\\/\\\\/g; s/"/\\"/g')
		args="$args${args:+, }\"$esc\""
	done
fi
netns='{ "type": "network" },'
[ "${FC_BUNDLE_NETNS:-1}" = 0 ] && netns=''
cat > "$dir/config.json" <<JSON
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [ $args ],
		"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"ambient": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "fcrun",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": [ "nosuid", "noexec", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
	],
	"linux": {
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [ { "type": "pid" }, $netns { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" } ],
		"maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
			"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
		"readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
	}
}
JSON
