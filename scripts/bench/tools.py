"""The Python steps of scripts/bench/run: request texts, the incumbent's WSGI app, and the result
records (one JSON object per line in the results file scripts/bench/report.py reads).

Each subcommand is one step of run; `python3 scripts/bench/tools.py COMMAND --help` lists its
arguments. Standard library only (Debian's /usr/bin/python3); servers are found through
scripts/lib/httpd.py by their directory.
"""

import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/lib
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import httpd  # noqa: E402  (scripts/lib/httpd.py)


def request_texts(held_out, count, words, texts_out, paths_out):
    """The first `count` distinct held-out descriptions cut to `words` words, without '/' (a %2F
    in a path means something else to each server): one per line in `texts_out`, and
    percent-encoded for the path in `paths_out`. Returns how many."""
    seen, texts = set(), []
    with open(held_out, encoding="utf-8") as source:
        for line in source:
            text = " ".join(line.replace("/", " ").split()[:words])
            if len(text) >= 10 and text not in seen:
                seen.add(text)
                texts.append(text)
            if len(texts) == count:
                break
    with open(texts_out, "w", encoding="utf-8") as t, open(paths_out, "w", encoding="ascii") as p:
        for text in texts:
            t.write(text + "\n")
            p.write(urllib.parse.quote(text, safe="") + "\n")
    return len(texts)


def v2_bodies(texts, bodies_out):
    """One Open Inference Protocol infer request per text, one JSON object a line: the same body
    for mod_classify's /v2 and for MLServer (one BYTES tensor "text" of shape [1], no
    parameters, so MLServer's sklearn runtime decodes it with its default numpy codec)."""
    count = 0
    with open(texts, encoding="utf-8") as source, \
            open(bodies_out, "w", encoding="utf-8") as out:
        for line in source:
            text = line.rstrip("\n")
            if text:
                out.write(json.dumps({"inputs": [{"name": "text", "shape": [1],
                                                  "datatype": "BYTES", "data": [text]}]},
                                     separators=(",", ":")) + "\n")
                count += 1
    return count


def v2_labels(url, bodies, count):
    """The label each of the first `count` bodies gets from an infer URL: the first output's
    first value (mod_classify's "label", MLServer's "predict")."""
    labels = []
    with open(bodies, encoding="utf-8") as source:
        for body in source:
            if len(labels) == count:
                break
            request = urllib.request.Request(url, data=body.strip().encode("utf-8"),
                                             headers={"Content-Type": "application/json"})
            with httpd.LOOPBACK.open(request, timeout=30) as answer:
                labels.append(str(json.load(answer)["outputs"][0]["data"][0]))
    return labels


def wait_ready(url, pid, timeout):
    """Waits (at most `timeout` s) for a 200 from `url` while `pid` lives; returns the ms waited,
    or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and httpd.alive(pid):
        try:
            with httpd.LOOPBACK.open(url, timeout=5) as answer:
                if answer.status == 200:
                    return round((time.monotonic() - started) * 1000)
        except OSError:
            pass
        time.sleep(0.2)
    return None


def stop_tree(pid, bound=15.0):
    """SIGTERM to `pid` (SIGKILL after `bound` s), then SIGKILL to any of its former
    descendants still alive (by PID): MLServer's inference workers must not outlive it."""
    tree = httpd.process_tree(pid)
    httpd.stop_pid(pid, bound)
    deadline = time.monotonic() + 5
    while any(httpd.alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    for member in tree:
        if httpd.alive(member):
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass


# The classic recipe's app, verbatim but for one line on stderr (the error log) with its load
# time, which run reads as the incumbent's model load time.
WSGI_APP = '''import pickle
import sys
import time

started = time.perf_counter()
from bottle import default_app, route

imported = time.perf_counter()
with open({vectorizer!r}, "rb") as f:
    vec = pickle.load(f)
with open({classifier!r}, "rb") as f:
    clf = pickle.load(f)
print("BENCH-APP-LOADED import_ms=%.1f load_ms=%.1f" % (
    (imported - started) * 1000, (time.perf_counter() - imported) * 1000), file=sys.stderr)


@route("/<query>")
def classify(query):
    return clf.predict(vec.transform([query]).toarray())[0]


application = default_app()
'''


def write_wsgi_app(app_dir, pickles):
    """Writes app_dir/app.wsgi loading vectorizer.pickle and classifier.pickle from `pickles`,
    readable by the mod_wsgi daemons (www-data when run as root)."""
    app_dir = Path(app_dir)
    app_dir.mkdir(parents=True, exist_ok=True)
    app = app_dir / "app.wsgi"
    app.write_text(WSGI_APP.format(vectorizer=str(Path(pickles) / "vectorizer.pickle"),
                                   classifier=str(Path(pickles) / "classifier.pickle")),
                   encoding="utf-8")
    for path in (app_dir, app):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return app


def meta_record(core, model, data, duration, rounds, texts, words, wrk_threads, recipe,
                vectorizer, mlserver=None):
    """The run's description: the model (from the predict bench's JSON line `core`) and the
    load settings."""
    processes, threads = (recipe or "1x5").split("x")
    with open(data, encoding="utf-8") as corpus:
        documents = sum(1 for _ in corpus)
    return {
        "kind": "meta", "model_format": "JSON" if model.endswith(".json") else "binary",
        "model_bytes": os.path.getsize(model), "model_rss_kib": core["model_rss_kib"],
        "core_load_ms": core["load_ms"], "n_features": core["n_features"],
        "n_classes": core["n_classes"], "documents": documents,
        "duration": duration, "rounds": rounds, "texts": texts, "words": words,
        "wrk_threads": wrk_threads, "recipe_server": f"wsgi p{processes} t{threads}",
        "vectorizer": vectorizer, "mlserver": mlserver,
    }


def start_record(server, first_answer_ms, load_ms):
    return {"kind": "start", "server": server, "first_answer_ms": first_answer_ms,
            "load_ms": load_ms}


def classify_load_ms(server_dir):
    """How long mod_classify took to load its model: the metadata page's load_ms, else the
    CLS00003 line of the error log; None if neither says."""
    apache = httpd.Apache(server_dir)
    try:
        with httpd.LOOPBACK.open(apache.url("/classify"), timeout=10) as answer:
            return float(json.load(answer)["load_ms"])
    except (OSError, ValueError, KeyError):
        pass
    found = re.findall(r"CLS00003: .* in ([0-9.]+) ms", apache.error_log.read_text(errors="replace"))
    return float(found[-1]) if found else None


def wsgi_load_ms(server_dir):
    """How long the incumbent's first daemon took to unpickle the model (its BENCH-APP-LOADED
    line), or None."""
    text = httpd.Apache(server_dir).error_log.read_text(errors="replace")
    found = re.search(r"BENCH-APP-LOADED .*load_ms=([0-9.]+)", text)
    return float(found.group(1)) if found else None


def load_record(server, conns, round_number, wrk_output, server_dir, pid=None):
    """One wrk run (the WRK-RESULT line wrk.lua prints) with the PSS of the server's process tree
    (the Apache of `server_dir`, or the tree under `pid`) read now, right after it. Errors =
    non-2xx answers + socket errors."""
    result = re.search(r"^WRK-RESULT (.*)$", Path(wrk_output).read_text(errors="replace"),
                       re.MULTILINE)
    if not result:
        raise ValueError(f"no WRK-RESULT line in {wrk_output}")
    raw = json.loads(result.group(1))
    pss_kib, procs = httpd.pss_tree(pid) if pid else httpd.Apache(server_dir).pss()
    socket_errors = sum(raw[k] for k in ("errors_connect", "errors_read", "errors_write",
                                         "errors_timeout"))
    return {"kind": "load", "server": server, "conns": conns, "round": round_number,
            "rps": raw["requests"] / (raw["duration_us"] / 1e6), "requests": raw["requests"],
            "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "errors_status": raw["errors_status"], "errors_socket": socket_errors,
            "pss_kib": pss_kib, "procs": procs, "raw": raw}


def describe_load(r):
    return ("   %-15s -c%-3d r%d %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d+%d  "
            "PSS %6.0f MB (%d processes)" % (
                r["server"], r["conns"], r["round"], r["rps"], r["p50_ms"], r["p99_ms"],
                r["errors_status"], r["errors_socket"], r["pss_kib"] / 1024, r["procs"]))


def memory_record(variant, n, server_dir):
    """PSS of a server with N processes sharing one model (prefork children, or mod_wsgi daemon
    processes for the incumbent)."""
    pss_kib, procs = httpd.Apache(server_dir).pss()
    return {"kind": "prefork", "variant": variant, "n": n, "pss_kib": pss_kib, "procs": procs}


def describe_memory(r):
    mb = r["pss_kib"] // 1024
    if r["variant"] == "wsgi":
        return f"   incumbent processes={r['n']} threads=1: {mb} MB PSS over {r['procs']} processes"
    return (f"   prefork N={r['n']} {r['variant']}: {mb} MB PSS over {r['procs']} processes "
            f"({r['procs'] - 1} children)")


def wait_processes(server_dir, wanted, timeout):
    """Waits (at most `timeout` s) until the server's tree has `wanted` processes besides the
    parent; returns how many it has."""
    apache = httpd.Apache(server_dir)
    deadline = time.monotonic() + timeout
    while True:
        children = len(httpd.process_tree(apache.pid())) - 1
        if children >= wanted or time.monotonic() > deadline:
            return children
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------------
# Command line: one subcommand per step of scripts/bench/run.


def _append(results, record):
    with open(results, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _optional_float(text):
    return float(text) if text else None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tools.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub = commands.add_parser("texts", help="request texts and their percent-encoded paths")
    sub.add_argument("held_out")
    sub.add_argument("count", type=int)
    sub.add_argument("words", type=int)
    sub.add_argument("texts_out")
    sub.add_argument("paths_out")

    sub = commands.add_parser("v2-bodies", help="one infer request body per text")
    sub.add_argument("texts")
    sub.add_argument("bodies_out")

    sub = commands.add_parser("v2-labels", help="print the labels of the first N bodies")
    sub.add_argument("url")
    sub.add_argument("bodies")
    sub.add_argument("count", type=int)

    sub = commands.add_parser("wait-ready", help="wait for a 200 while PID lives; print ms")
    sub.add_argument("url")
    sub.add_argument("pid", type=int)
    sub.add_argument("--timeout", type=float, default=180.0)

    sub = commands.add_parser("stop-tree", help="stop PID and its descendants")
    sub.add_argument("pid", type=int)

    sub = commands.add_parser("wsgi-app", help="write the incumbent's app.wsgi")
    sub.add_argument("app_dir")
    sub.add_argument("pickles", help="directory of vectorizer.pickle and classifier.pickle")

    sub = commands.add_parser("meta", help="record the model and the run's settings")
    sub.add_argument("--results", required=True)
    sub.add_argument("--core", required=True, metavar="FILE",
                     help="the predict bench's --json output (its last line is read)")
    for name in ("model", "data", "recipe", "vectorizer"):
        sub.add_argument(f"--{name}", required=True)
    sub.add_argument("--mlserver", help="MLServer's version, when it is measured")
    for name in ("duration", "rounds", "texts", "words", "wrk-threads"):
        sub.add_argument(f"--{name}", type=int, required=True)

    sub = commands.add_parser("load-ms", help="print a server's model load time in ms")
    sub.add_argument("kind", choices=("classify", "wsgi"))
    sub.add_argument("server_dir")

    sub = commands.add_parser("start", help="record a server's start")
    sub.add_argument("--results", required=True)
    sub.add_argument("server")
    sub.add_argument("first_answer_ms", type=int)
    sub.add_argument("load_ms", type=_optional_float, help="'' when unknown")

    sub = commands.add_parser("load", help="record and print one wrk run")
    sub.add_argument("--results", required=True)
    sub.add_argument("server")
    sub.add_argument("conns", type=int)
    sub.add_argument("round", type=int)
    sub.add_argument("wrk_output")
    sub.add_argument("server_dir")
    sub.add_argument("--pid", type=int, help="measure the PSS of this process tree instead")

    sub = commands.add_parser("memory", help="record and print the PSS of N processes")
    sub.add_argument("--results", required=True)
    sub.add_argument("variant", choices=("bare", "mod_classify", "wsgi"))
    sub.add_argument("n", type=int)
    sub.add_argument("server_dir")

    sub = commands.add_parser("wait-processes", help="wait for N processes under the parent")
    sub.add_argument("server_dir")
    sub.add_argument("n", type=int)
    sub.add_argument("--timeout", type=float, default=30.0)

    args = parser.parse_args(argv)
    if args.command == "texts":
        print(request_texts(args.held_out, args.count, args.words, args.texts_out,
                            args.paths_out))
    elif args.command == "v2-bodies":
        print(v2_bodies(args.texts, args.bodies_out))
    elif args.command == "v2-labels":
        print("\n".join(v2_labels(args.url, args.bodies, args.count)))
    elif args.command == "wait-ready":
        ms = wait_ready(args.url, args.pid, args.timeout)
        if ms is None:
            sys.stderr.write(f"run: no 200 from {args.url} within {args.timeout:g} s\n")
            return 1
        print(ms)
    elif args.command == "stop-tree":
        stop_tree(args.pid)
    elif args.command == "wsgi-app":
        write_wsgi_app(args.app_dir, args.pickles)
    elif args.command == "meta":
        core_lines = Path(args.core).read_text(encoding="utf-8").split("\n")
        core = json.loads([line for line in core_lines if line.strip()][-1])
        _append(args.results, meta_record(core, args.model, args.data, args.duration,
                                          args.rounds, args.texts, args.words, args.wrk_threads,
                                          args.recipe, args.vectorizer, args.mlserver))
    elif args.command == "load-ms":
        ms = (classify_load_ms if args.kind == "classify" else wsgi_load_ms)(args.server_dir)
        print("" if ms is None else ms)
    elif args.command == "start":
        _append(args.results, start_record(args.server, args.first_answer_ms, args.load_ms))
    elif args.command == "load":
        try:
            record = load_record(args.server, args.conns, args.round, args.wrk_output,
                                 args.server_dir, args.pid)
        except ValueError as error:
            sys.stderr.write(f"run: {error}:\n{Path(args.wrk_output).read_text(errors='replace')}")
            return 1
        _append(args.results, record)
        print(describe_load(record))
    elif args.command == "memory":
        record = memory_record(args.variant, args.n, args.server_dir)
        _append(args.results, record)
        print(describe_memory(record))
    elif args.command == "wait-processes":
        print(wait_processes(args.server_dir, args.n, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
