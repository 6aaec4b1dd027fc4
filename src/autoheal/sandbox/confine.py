"""In-process confinement applied by the worker bootstrap before the script is compiled.

Why this shape:

* It runs inside the worker (stdlib + ctypes only, imported with ``python -I -S``), because
  Landlock and seccomp restrict *the calling thread and its future children*: they have to be
  applied by the process that will run the script, while it is still single-threaded, after the
  imports that need the filesystem (lxml, the stdlib) and before the untrusted text exists.
* Order: pre-import -> rlimits -> drop the capability bounding set -> drop to the slot uid ->
  ``no_new_privs`` -> Landlock -> seccomp.  Each later step would block an earlier one.
* Landlock is ~100 lines of ctypes (the PyPI binding knows only filesystem rules); it handles
  every access right the running kernel knows (ABI probe), so anything not granted is denied:
  reads only below the interpreter, site-packages and system library dirs, writes only in
  tier A's private tmpfs (nowhere in tier B), TCP bind/connect denied, signals and abstract
  UNIX sockets scoped to the sandbox; ``/proc`` is not granted, so other processes' environ
  and memory are unreadable even under the same uid.
* seccomp is a deny-list (an allow-list for CPython + lxml is fragile): no exec, no fork (threads
  are allowed, RLIMIT_AS caps them), no sockets at all (Landlock does not cover UDP or UNIX
  sockets), no ptrace/mount/namespaces/bpf/io_uring/keyrings, signals only to itself.
* When the interpreter lives in a directory the slot uid cannot traverse (pyenv under a 0700
  ``/root``), the import path is reached through ``O_PATH`` fds opened before the uid drop and
  named ``/proc/self/fd/N``: the kernel lets a process follow its own fd links.
* Every step reports what it applied; the parent compares that with the tier it asked for and
  fails the load closed if anything is missing.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import stat
import sys

__all__ = ["confine", "landlock_abi", "seccomp_available"]

# --- Landlock (include/uapi/linux/landlock.h); syscall numbers are the same on all arches ---
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FS_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | (1 << 14) | (1 << 15)
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP = 38, 24


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL("libc.so.6", use_errno=True)


def landlock_abi() -> int:
    """Landlock ABI version of the running kernel, 0 when unavailable (old kernel, gVisor)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(abi), 0)


def _fs_all(abi: int) -> int:
    return _FS_ALL_BY_ABI[max(k for k in _FS_ALL_BY_ABI if k <= abi)]


def _apply_landlock(read_paths: list[str], write_paths: list[str], path_fds: dict) -> int:
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available")
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    fs_all = _fs_all(abi)
    attr = _RulesetAttr(handled_access_fs=fs_all)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
    try:
        for paths, access in ((read_paths, read), (write_paths, fs_all)):
            for path in paths:
                fd = path_fds.get(path)
                own = fd is None
                if own:
                    try:
                        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                    except FileNotFoundError:
                        continue
                try:
                    allowed = access
                    if not stat.S_ISDIR(os.fstat(fd).st_mode):
                        allowed &= _FS_FILE_ONLY
                    rule = _PathBeneath(allowed_access=allowed, parent_fd=fd)
                    if (
                        libc.syscall(
                            _SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0
                        )
                        < 0
                    ):
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    if own:
                        os.close(fd)
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


# --- seccomp -------------------------------------------------------------------------------
_DENY_EPERM = (
    "execve",
    "execveat",
    "fork",
    "vfork",
    "socket",
    "socketpair",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "mount",
    "umount2",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "unshare",
    "setns",
    "chroot",
    "pivot_root",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "open_by_handle_at",
    "name_to_handle_at",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "mknod",
    "mknodat",
    "personality",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "fanotify_init",
    "kcmp",
    "migrate_pages",
    "move_pages",
    "mbind",
    "set_mempolicy",
    "nfsservctl",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
)


def seccomp_available() -> bool:
    try:
        _import_pyseccomp()
    except Exception:  # noqa: BLE001 - missing module or missing libseccomp.so.2
        return False
    return True


def _import_pyseccomp():
    """Import pyseccomp without letting ``find_library`` spawn ``ldconfig``/gcc (it would in
    the sandbox, where exec is about to be forbidden and /sbin may not exist)."""
    if "pyseccomp" in sys.modules:
        return sys.modules["pyseccomp"]
    import ctypes.util

    original = ctypes.util.find_library
    known = {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}
    ctypes.util.find_library = lambda name: known.get(name) or original(name)
    try:
        import pyseccomp
    finally:
        ctypes.util.find_library = original
    return pyseccomp


def _apply_seccomp() -> int:
    sc = _import_pyseccomp()
    eperm = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    count = 0
    for name in _DENY_EPERM:
        try:
            flt.add_rule(eperm, name)
        except (OSError, ValueError):
            continue  # not a syscall on this architecture
        count += 1
    clone_thread = 0x00010000
    flt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, clone_thread, 0))  # fork-like clone
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone for threads
    pid = os.getpid()
    flt.add_rule(eperm, "kill", sc.Arg(0, sc.NE, pid))
    flt.add_rule(eperm, "tgkill", sc.Arg(0, sc.NE, pid))
    flt.add_rule(eperm, "tkill")
    flt.add_rule(eperm, "rt_sigqueueinfo", sc.Arg(0, sc.NE, pid))
    flt.add_rule(eperm, "rt_tgsigqueueinfo", sc.Arg(0, sc.NE, pid))
    flt.load()
    return count + 7


# --- privileges and limits -------------------------------------------------------------------
_RLIMITS = {
    "AS": resource.RLIMIT_AS,
    "CPU": resource.RLIMIT_CPU,
    "NPROC": resource.RLIMIT_NPROC,
    "FSIZE": resource.RLIMIT_FSIZE,
    "NOFILE": resource.RLIMIT_NOFILE,
    "CORE": resource.RLIMIT_CORE,
}


def _drop_privileges(uid: int, gid: int) -> None:
    libc = _libc()
    for cap in range(64):  # needs CAP_SETPCAP; gone after setuid anyway, but be explicit
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise OSError(errno.EPERM, "uid drop did not take")


def _open_path_fds(paths: list[str]) -> dict[str, int]:
    fds = {}
    for path in paths:
        try:
            fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
    return fds


def confine(config: dict) -> dict:
    """Apply everything ``config`` asks for; raise if any requested layer fails."""
    for name in config.get("preload", ()):
        try:
            __import__(name)
        except ImportError:
            pass
    want_seccomp = bool(config.get("seccomp"))
    if want_seccomp:
        _import_pyseccomp()
    os.chdir(config["cwd"])
    for name, value in config.get("rlimits", {}).items():
        resource.setrlimit(_RLIMITS[name], (value, value))

    landlock = config.get("landlock")
    path_fds = _open_path_fds(list(sys.path) + list(landlock["read"])) if landlock else {}
    uid = config.get("uid")
    if uid is not None:
        _drop_privileges(int(uid), int(config.get("gid", uid)))
        for i, entry in enumerate(sys.path):
            if entry in path_fds and not os.access(entry, os.R_OK | os.X_OK):
                sys.path[i] = f"/proc/self/fd/{path_fds[entry]}"
        sys.path_importer_cache.clear()
    if libc_prctl_no_new_privs() != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    report = {"uid": os.getuid(), "landlock": 0, "seccomp": 0, "no_new_privs": True}
    if landlock:
        report["landlock"] = _apply_landlock(landlock["read"], landlock["write"], path_fds)
    for fd in path_fds.values():
        if f"/proc/self/fd/{fd}" not in sys.path:
            os.close(fd)
    if want_seccomp:
        report["seccomp"] = _apply_seccomp()
    return report


def libc_prctl_no_new_privs() -> int:
    return _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
