"""A throw-away Debian apache2 for the project's scripts: one config template, a free loopback
port, start, graceful restart, stop by PID, and the memory of the server's process tree.

The scripts (demo, bench/run, reliability/soak and reload, hot-text) and the Rust integration
tests (tests/apache/httpd.rs) start their servers the same way: a directory of its own holding
httpd.conf, httpd.pid, error.log (and access.log when asked), `apache2 -f DIR/httpd.conf -k
start`, ready once it answers, stopped by SIGTERM to the PID in httpd.pid. The template below
writes the directives the tests write, in the same order; what differs per script (MPM tuning,
extra modules, the site itself, an access log) is a parameter.

Standard library only: it runs under Debian's /usr/bin/python3. From bash, use the CLI:

    python3 scripts/lib/httpd.py conf DIR [--port N] [--mpm event] [--settings "StartServers 2"]
                                 [--classify SO] [--module NAME=PATH] [--log-level warn]
                                 [--access-log FORMAT] [--document-root D] [--comment TEXT]
                                 [--body TEXT] [--body-file FILE|-]
        writes DIR/httpd.conf (on a free loopback port unless --port) and prints the port
    python3 scripts/lib/httpd.py start DIR [--url PATH] [--any-status] [--timeout S]
        apache2 -k start, then waits until it answers; prints "PID MS" (MS: from the start
        command to the first answer). On failure it stops the server and shows the error log.
    python3 scripts/lib/httpd.py wait DIR [--pid PID] [--url PATH] [--any-status] [--timeout S]
        waits until a server started some other way (e.g. apache2 -X under valgrind) answers
    python3 scripts/lib/httpd.py graceful DIR [--timeout S]
        apache2 -k graceful, returning once the parent has re-read its configuration
    python3 scripts/lib/httpd.py stop DIR [--pid PID] [--bound S]
        SIGTERM, waits, SIGKILL after S seconds (default 15); exit status 3 if none was running
    python3 scripts/lib/httpd.py pss DIR [--pid PID]
        prints "PSS_KIB PROCESSES" for the parent and all its descendants
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MODULES_DIR = "/usr/lib/apache2/modules"
MPMS = ("prefork", "worker", "event")
# The line the parent logs (at NOTICE, written whatever the LogLevel) each time it has read its
# configuration: once at start, once per graceful restart.
GENERATION_MARKER = "resuming normal operations"
# What a `stop` or `start` failure shows of the error log.
LOG_TAIL_LINES = 20
# Loopback requests never go through an http_proxy from the environment.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def render_conf(root, port, *, mpm="event", settings=(), modules=(), body="", log_level="info",
                access_log=None, document_root=None, user=None, comment=None):
    """httpd.conf for a server living in `root` on 127.0.0.1:`port`.

    `settings`: MPM (or other server-wide) directives, one per item or line; empty keeps the
    compiled-in defaults. `modules`: (name, path) pairs loaded after the MPM, e.g.
    ("classify_module", "/path/mod_classify.so"). `body`: the site (sections and directives).
    `access_log`: a LogFormat string for root/access.log, or None for no access log. `user`: run
    the children as www-data; by default when root, as Apache refuses to serve as root.
    `comment`: a first line saying who wrote the file and why.
    """
    if mpm not in MPMS:
        raise ValueError(f"mpm {mpm!r}: expected one of {', '.join(MPMS)}")
    if user is None:
        user = os.geteuid() == 0
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    lines += [
        f'ServerRoot "{root}"',
        f'PidFile "{root}/httpd.pid"',
        f'ErrorLog "{root}/error.log"',
        f"LogLevel {log_level}",
        f"Listen 127.0.0.1:{port}",
        "ServerName 127.0.0.1",
    ]
    if user:
        lines += ["User www-data", "Group www-data"]
    lines += [
        f"LoadModule mpm_{mpm}_module {MODULES_DIR}/mod_mpm_{mpm}.so",
        f"LoadModule authz_core_module {MODULES_DIR}/mod_authz_core.so",
    ]
    lines += _directive_lines(settings)
    lines += [f'LoadModule {name} "{path}"' for name, path in modules]
    if access_log is not None:
        escaped = access_log.replace("\\", "\\\\").replace('"', '\\"')
        lines += [f'LogFormat "{escaped}" classify', f'CustomLog "{root}/access.log" classify']
    lines.append(f'DocumentRoot "{document_root or root}"')
    return "\n".join(lines + [body.strip("\n")]).rstrip("\n") + "\n"


def _directive_lines(settings):
    if isinstance(settings, str):
        settings = [settings]
    return [line.strip() for item in settings for line in item.splitlines() if line.strip()]


def free_port():
    """A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with others remains)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApacheError(Exception):
    """A server that would not start, restart or stop; the message includes its error log."""


class Apache:
    """The server whose files live in `root`: httpd.conf, httpd.pid, error.log."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        self.conf = self.root / "httpd.conf"
        self.pid_file = self.root / "httpd.pid"
        self.error_log = self.root / "error.log"

    @classmethod
    def configure(cls, root, port=None, **template):
        """Writes root/httpd.conf from the template (see render_conf) and returns the server."""
        apache = cls(root)
        apache.root.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        apache.conf.write_text(render_conf(apache.root, port, **template), encoding="utf-8")
        return apache

    @property
    def port(self):
        match = re.search(r"^Listen 127\.0\.0\.1:(\d+)$", self.conf.read_text(encoding="utf-8"),
                          re.MULTILINE)
        if not match:
            raise ApacheError(f"{self.conf}: no 'Listen 127.0.0.1:PORT' line")
        return int(match.group(1))

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def pid(self):
        """The parent's PID from httpd.pid, or None when no server of this config runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def _is_ours(self, pid):
        # A stale httpd.pid may name a process that has since been reused by another program:
        # only signal a live process whose command line names this config.
        if not alive(pid):
            return False
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return False
        return any(arg.endswith(".conf") and Path(arg).resolve() == self.conf for arg in argv)

    def control(self, *args):
        """Runs `apache2 -f CONF ARGS`; returns the completed process (output captured)."""
        return subprocess.run(["apache2", "-f", str(self.conf), *args],
                              capture_output=True, text=True)

    def start(self, path=None, any_status=False, timeout=15.0):
        """`apache2 -k start`, then waits until it answers (see wait). Returns (pid, ms from the
        start command to the first answer). On failure stops what it started and raises."""
        started = time.monotonic()
        result = self.control("-k", "start")
        if result.returncode != 0:
            self.stop()
            raise ApacheError(f"apache2 -f {self.conf} -k start failed "
                              f"(status {result.returncode}):\n{result.stdout}{result.stderr}"
                              f"{self.log_tail()}")
        try:
            pid = self.wait(path=path, any_status=any_status, timeout=timeout, since=started)
        except ApacheError:
            self.stop()
            raise
        return pid, (time.monotonic() - started) * 1000

    def wait(self, path=None, any_status=False, timeout=15.0, pid=None, since=None):
        """Waits until the server answers: a TCP connection when `path` is None (as the Rust
        tests do), else a 200 from GET `path` (any HTTP answer with `any_status`). `pid`: the
        process to watch when there is no pid file yet (a server run in the foreground)."""
        since = time.monotonic() if since is None else since
        deadline = since + timeout
        while True:
            server = pid or self.pid()
            if server and self._answers(path, any_status, deadline):
                return server
            if pid and not alive(pid):
                raise ApacheError(f"the server (PID {pid}) exited before answering"
                                  f"{self.log_tail()}")
            if time.monotonic() > deadline:
                what = f"GET {self.url(path)}" if path else f"127.0.0.1:{self.port}"
                raise ApacheError(f"no answer from {what} after {timeout:g} s{self.log_tail()}")
            time.sleep(0.05)

    def _answers(self, path, any_status, deadline):
        if path is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        try:
            with LOOPBACK.open(self.url(path),
                              timeout=max(1.0, min(10.0, deadline - time.monotonic()))):
                return True
        except urllib.error.HTTPError:
            return any_status
        except (OSError, ValueError):
            return False

    def graceful(self, timeout=15.0):
        """`apache2 -k graceful`; returns once the parent has re-read its configuration."""
        before = self.generations()
        result = self.control("-k", "graceful")
        if result.returncode != 0:
            raise ApacheError(f"apache2 -k graceful failed: {result.stdout}{result.stderr}")
        deadline = time.monotonic() + timeout
        while self.generations() <= before:
            if time.monotonic() > deadline:
                raise ApacheError(f"graceful restart never completed{self.log_tail()}")
            time.sleep(0.05)

    def generations(self):
        try:
            return self.error_log.read_text(errors="replace").count(GENERATION_MARKER)
        except OSError:
            return 0

    def stop(self, pid=None, bound=15.0):
        """SIGTERM to the parent (it stops its children), then waits; SIGKILL after `bound`
        seconds. `pid`: a server run in the foreground, if it wrote no pid file. Returns False
        when no server of this config was running."""
        pid = pid if pid and self._is_ours(pid) else self.pid()
        if pid is None:
            return False
        if not stop_pid(pid, bound):
            raise ApacheError(f"apache2 {pid} of {self.conf} still runs after SIGKILL")
        return True

    def pss(self, pid=None):
        """(PSS in KiB, number of processes) of the parent and every descendant."""
        pid = pid or self.pid()
        if pid is None:
            raise ApacheError(f"no server of {self.conf} is running")
        return pss_tree(pid)

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            text = self.error_log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"\n(no error log at {self.error_log})"
        return f"\nlast lines of {self.error_log}:\n" + "\n".join(text)


def alive(pid):
    """True while `pid` runs. A zombie counts as gone: a daemonized apache2's parent is init, and
    in a container init may never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def stop_pid(pid, bound=15.0):
    """SIGTERM, wait, SIGKILL after `bound` seconds; returns True once `pid` is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + bound
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        print(f"httpd: apache2 {pid} ignored SIGTERM for {bound:g} s: SIGKILL", file=sys.stderr)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    return not alive(pid)


def process_tree(pid):
    """`pid` and all its live descendants (Apache's parent, its children, mod_wsgi daemons)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        if alive(current):
            tree.append(current)
            todo += children.get(current, [])
    return tree


def pss_tree(pid):
    """(sum of Pss in KiB from /proc/PID/smaps_rollup, number of processes) over the tree."""
    total, count = 0, 0
    for member in process_tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:  # exited meanwhile
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
        total += int(match.group(1)) if match else 0
        count += 1
    return total, count


# ------------------------------------------------------------------------------------------------
# Command line


def main(argv=None):
    args = _parser().parse_args(argv)
    apache = Apache(args.dir)
    try:
        return args.run(apache, args)
    except ApacheError as error:
        print(f"httpd: {error}", file=sys.stderr)
        return 1


def _conf(apache, args):
    body = "\n".join(args.body or [])
    if args.body_file:
        source = sys.stdin if args.body_file == "-" else open(args.body_file, encoding="utf-8")
        with source:
            body += "\n" + source.read()
    modules = [("classify_module", path) for path in args.classify or []]
    for item in args.module or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"httpd: --module wants NAME=PATH, got {item!r}")
        modules.append((name, path))
    apache = Apache.configure(apache.root, port=args.port, mpm=args.mpm,
                              settings=args.settings or [], modules=modules, body=body,
                              log_level=args.log_level, access_log=args.access_log,
                              document_root=args.document_root, comment=args.comment)
    print(apache.port)
    return 0


def _start(apache, args):
    pid, ms = apache.start(path=args.url, any_status=args.any_status, timeout=args.timeout)
    print(pid, round(ms))
    return 0


def _wait(apache, args):
    apache.wait(path=args.url, any_status=args.any_status, timeout=args.timeout, pid=args.pid)
    return 0


def _graceful(apache, args):
    apache.graceful(timeout=args.timeout)
    return 0


def _stop(apache, args):
    return 0 if apache.stop(pid=args.pid, bound=args.bound) else 3


def _pss(apache, args):
    kib, processes = apache.pss(pid=args.pid)
    print(kib, processes)
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="httpd.py", description="A throw-away apache2 on loopback (see the module doc).")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name, run, help_text):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("dir", help="the server's directory (httpd.conf, httpd.pid, logs)")
        sub.set_defaults(run=run)
        return sub

    conf = command("conf", _conf, "write DIR/httpd.conf and print its port")
    conf.add_argument("--port", type=int, help="default: a free loopback port")
    conf.add_argument("--mpm", default="event", choices=MPMS)
    conf.add_argument("--settings", action="append", metavar="DIRECTIVES",
                      help="server-wide directives (MPM tuning...), one per line; repeatable")
    conf.add_argument("--classify", action="append", metavar="SO",
                      help="load mod_classify from this file")
    conf.add_argument("--module", action="append", metavar="NAME=PATH",
                      help="another LoadModule; repeatable")
    conf.add_argument("--log-level", default="info")
    conf.add_argument("--access-log", metavar="FORMAT",
                      help="write DIR/access.log in this LogFormat (default: no access log)")
    conf.add_argument("--document-root", help="default: DIR")
    conf.add_argument("--comment", help="a first comment line (who generated the file)")
    conf.add_argument("--body", action="append", metavar="TEXT", help="site configuration")
    conf.add_argument("--body-file", metavar="FILE", help="site configuration ('-': stdin)")

    for name, run, help_text in (
            ("start", _start, "apache2 -k start and wait until it answers; prints PID MS"),
            ("wait", _wait, "wait until a server started otherwise answers")):
        sub = command(name, run, help_text)
        sub.add_argument("--url", metavar="PATH",
                         help="ready on a 200 from GET PATH (default: on a TCP connection)")
        sub.add_argument("--any-status", action="store_true",
                         help="with --url: any HTTP answer counts (e.g. a 404)")
        sub.add_argument("--timeout", type=float, default=15.0, metavar="S")
        if name == "wait":
            sub.add_argument("--pid", type=int, help="the server's process, if no pid file yet")

    graceful = command("graceful", _graceful, "graceful restart, waiting for the new generation")
    graceful.add_argument("--timeout", type=float, default=15.0, metavar="S")

    stop = command("stop", _stop, "SIGTERM, wait, SIGKILL after --bound; status 3: none running")
    stop.add_argument("--pid", type=int, help="default: the PID in DIR/httpd.pid")
    stop.add_argument("--bound", type=float, default=15.0, metavar="S")

    pss = command("pss", _pss, "print PSS_KIB PROCESSES of the server's process tree")
    pss.add_argument("--pid", type=int, help="default: the PID in DIR/httpd.pid")
    return parser


if __name__ == "__main__":
    sys.exit(main())
