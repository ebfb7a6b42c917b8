#!/usr/bin/python3
"""Turns the raw numbers of scripts/bench/run and scripts/bench/micro into tables, ratios,
a section of docs/benchmarks.md and a PNG chart.

  report.py micro --sklearn S.json --rust R.json --train T.json [--markdown FILE]
                  [--baseline B.json --baseline-name NAME] [--command-line TEXT]
  report.py run --results R.jsonl [--markdown FILE] [--chart PNG]

Each command replaces only its own section of FILE (between `<!-- bench:NAME begin/end -->`
markers), so the two benchmarks can be re-run independently; the file is created if missing.
Numbers are printed, never asserted.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

DOC_HEADER = """# Benchmarks

Measured by `scripts/bench/run` (mod_classify vs the classic Bottle + mod_wsgi recipe vs a static
file, over HTTP with `wrk`) and `scripts/bench/micro` (the core's featurize+predict vs sklearn, per
document). Each section below is rewritten by the command that measured it; ratios always compare
numbers measured in the same run. The machine is shared and noisy: treat differences under ~10 %
as noise, and re-run with a longer `--duration`/`--seconds` for firmer numbers.
"""


# ----------------------------------------------------------------------------------------------
# Machine and versions


def _run(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine_facts():
    cpu, cores = "?", 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and cpu == "?":
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("processor"):
                    cores += 1
    except OSError:
        pass
    mem = "?"
    free = _run(["free", "-g"]).splitlines()
    for line in free:
        if line.startswith("Mem:"):
            mem = f"{line.split()[1]} GiB"
    apache = _run(["apache2", "-v"]).splitlines()
    apache = apache[0].split(":", 1)[1].strip() if apache else "?"
    rustc = _run(["rustc", "--version"]) or "?"
    kernel = platform.release()
    try:
        import sklearn

        sk = sklearn.__version__
    except ImportError:
        sk = "?"
    wrk = _run(["dpkg-query", "-W", "-f=${Version}", "wrk"]) or "?"
    wsgi = _run(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-wsgi-py3"]) or "?"
    try:
        loadavg = open("/proc/loadavg", encoding="ascii").read().split()[:3]
    except OSError:
        loadavg = ["?"] * 3
    return {
        "loadavg": " ".join(loadavg),
        "cpu": cpu, "cores": cores, "memory": mem, "kernel": kernel, "apache": apache,
        "rustc": rustc, "sklearn": sk, "python": platform.python_version(), "wrk": wrk,
        "mod_wsgi": wsgi,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def facts_line(f):
    return (f"Measured {f['date']} on {f['cpu']} ({f['cores']} cores), {f['memory']} RAM, Linux "
            f"{f['kernel']}; {f['apache']}, mod_wsgi {f['mod_wsgi']}, Python {f['python']}, "
            f"scikit-learn {f['sklearn']}, {f['rustc']}, wrk {f['wrk']}. Load average when the "
            f"report was written (1, 5, 15 min): {f['loadavg']} — other jobs share this machine.")


def replace_section(path, name, body):
    begin, end = f"<!-- bench:{name} begin -->", f"<!-- bench:{name} end -->"
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else DOC_HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    print(f"wrote section '{name}' of {path}")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join(fmt.format(*map(str, r)) for r in [header, *rows])


def verdict(ok):
    return "holds" if ok else "**fails**"


# ----------------------------------------------------------------------------------------------
# micro


def json_lines(path):
    """Every JSON object of a file of one object per line (one per round)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def micro(args):
    sk_rounds = json_lines(args.sklearn)
    rs_rounds = json_lines(args.rust)
    tr = json.load(open(args.train, encoding="utf-8"))
    if not sk_rounds or len(sk_rounds) != len(rs_rounds):
        sys.exit(f"report: {len(sk_rounds)} sklearn rounds but {len(rs_rounds)} core rounds")
    rounds = len(rs_rounds)
    # Load time, memory and the recipe's dense predict are measured in the first round only.
    sk, rs = dict(sk_rounds[0]), dict(rs_rounds[0])
    for key in ("sparse_ns_per_doc", "one_text_ns_per_doc"):
        sk[key] = statistics.median(r[key] for r in sk_rounds)
    for key in ("predict_ns_per_doc", "one_text_ns_per_doc", "featurize_ns_per_doc"):
        rs[key] = statistics.median(r[key] for r in rs_rounds)
    rs["predict_calls"] = sum(r["predict_calls"] for r in rs_rounds)
    # Another build's predict bench, timed in the same rounds (micro --baseline).
    base_rounds = json_lines(args.baseline) if args.baseline else []
    if base_rounds and len(base_rounds) != rounds:
        sys.exit(f"report: {len(base_rounds)} baseline rounds but {rounds} core rounds")
    sk["sparse_calls"] = sum(r["sparse_calls"] for r in sk_rounds)

    def paired(sk_key, rs_key):
        """Median and range of the rounds' own ratios."""
        ratios = [s[sk_key] / r[rs_key] for s, r in zip(sk_rounds, rs_rounds)]
        return statistics.median(ratios), min(ratios), max(ratios)

    def ratio_cell(median, low, high):
        return f"{median:.0f}×" if rounds == 1 else f"{median:.0f}× ({low:.0f}–{high:.0f}×)"

    ngram = tr.get("ngram_range", [1, 2])
    classifier = tr.get("classifier", "LinearSVC")
    # The targets are the linear fast path's; other classifiers are reported without one.
    linear = classifier == "LinearSVC"

    def target(text, met):
        return (text, met) if linear else ("–", "")

    # Issue 3's targets for word n-grams; issue 21's for character n-grams (whose documents
    # have ~1,300 n-grams each rather than ~40).
    char_model = tr.get("analyzer", "word") != "word"
    limit_ns, min_ratio = (10_000, 200) if char_model else (5_000, 100)
    goal = f"≤ {limit_ns // 1000} µs, ≥ {min_ratio}×"
    ratio, *ratio_range = paired("sparse_ns_per_doc", "predict_ns_per_doc")
    one_ratio, *one_range = paired("one_text_ns_per_doc", "one_text_ns_per_doc")
    whole_texts = tr.get("words", 20) == 0
    first_text = (f"the median-length text ({tr['median_chars']} characters) alone, repeated"
                  if whole_texts and tr.get("median_chars") else "the first text alone, repeated")
    dense_ratio = sk["dense_ns_per_doc"] / rs_rounds[0]["predict_ns_per_doc"]
    load_s = rs["load_ms"] / 1000
    fmt = "JSON" if rs["model"].endswith(".json") else "binary"
    rows = [
        ["featurize+predict per document",
         f"{rs['predict_ns_per_doc'] / 1000:.2f} µs",
         f"{sk['sparse_ns_per_doc'] / 1000:.1f} µs",
         ratio_cell(ratio, *ratio_range),
         *target(goal, f"{verdict(rs['predict_ns_per_doc'] <= limit_ns)}, "
                       f"{verdict(ratio >= min_ratio)}")],
        ["  of which featurize", f"{rs['featurize_ns_per_doc'] / 1000:.2f} µs", "", "", "", ""],
        [first_text,
         f"{rs['one_text_ns_per_doc'] / 1000:.2f} µs",
         f"{sk['one_text_ns_per_doc'] / 1000:.1f} µs",
         ratio_cell(one_ratio, *one_range),
         *target(goal, f"{verdict(rs['one_text_ns_per_doc'] <= limit_ns)}, "
                       f"{verdict(one_ratio >= min_ratio)}")],
        ["  texts per second, one core",
         f"{1e9 / rs['one_text_ns_per_doc']:,.0f}",
         f"{1e9 / sk['one_text_ns_per_doc']:,.0f}", "", "", ""],
    ]
    if base_rounds:
        name = args.baseline_name or "baseline"

        def before(key):
            return statistics.median(r[key] for r in base_rounds)

        def speedup(key):
            ratios = [b[key] / r[key] for b, r in zip(base_rounds, rs_rounds)]
            return f"{statistics.median(ratios):.1f}× faster ({min(ratios):.1f}–{max(ratios):.1f}×)"

        base_ratio = statistics.median(s["sparse_ns_per_doc"] / b["predict_ns_per_doc"]
                                       for s, b in zip(sk_rounds, base_rounds))
        base_one = statistics.median(s["one_text_ns_per_doc"] / b["one_text_ns_per_doc"]
                                     for s, b in zip(sk_rounds, base_rounds))
        rows += [
            [f"before ({name}): featurize+predict per document",
             f"{before('predict_ns_per_doc') / 1000:.2f} µs", "", f"{base_ratio:.0f}×",
             "now " + speedup("predict_ns_per_doc"), ""],
            ["  of which featurize", f"{before('featurize_ns_per_doc') / 1000:.2f} µs", "", "",
             "now " + speedup("featurize_ns_per_doc"), ""],
            [f"before: {first_text}", f"{before('one_text_ns_per_doc') / 1000:.2f} µs", "",
             f"{base_one:.0f}×", "now " + speedup("one_text_ns_per_doc"), ""],
            ["  texts per second, one core", f"{1e9 / before('one_text_ns_per_doc'):,.0f}", "",
             "", "", ""],
        ]
    if "batch_ns_per_doc" in sk:
        batch = statistics.median(r["batch_ns_per_doc"] for r in sk_rounds)
        rows.append([f"sklearn's batch `predict(transform(all {rs['texts']} texts))`, per text",
                     "", f"{batch / 1000:.1f} µs",
                     f"{statistics.median(r['batch_ns_per_doc'] / c['predict_ns_per_doc'] for r, c in zip(sk_rounds, rs_rounds)):.0f}×",
                     "", ""])
    rows += [
        ["recipe's dense `.toarray()` predict", "", f"{sk['dense_ns_per_doc'] / 1e6:.1f} ms",
         f"{dense_ratio:.0f}×", "", ""],
        [f"load ({fmt} model, {rs['file_bytes'] / 1e6:.0f} MB file), median of 5",
         f"{load_s:.2f} s", f"{sk['pickle_load_s']:.2f} s (unpickle, once)", "",
         *target("≤ 0.3 s", verdict(load_s <= 0.3))],
        ["  the first of those loads",
         f"{rs['first_load_ms'] / 1000:.2f} s" if "first_load_ms" in rs else "–", "", "", "", ""],
        ["resident memory of the loaded model", f"{rs['model_rss_kib'] / 1024:.0f} MB",
         f"{sk['pickle_rss_kib'] / 1024:.0f} MB", "", "", ""],
        ["peak resident while loading", f"{rs['peak_rss_kib'] / 1024:.0f} MB", "", "", "", ""],
    ]
    header = ["", "mod_classify core", "sklearn", "ratio", "target", ""]
    facts = machine_facts()
    hashing = tr.get("vectorizer") == "hashing"
    analyzer = tr.get("analyzer", "word")
    if "described" in tr:
        vectorizer = tr["described"] + ("" if hashing else ", no min_df,")
    elif hashing:
        vectorizer = f"HashingVectorizer(ngram_range=({ngram[0]}, {ngram[1]}), n_features=2**20)"
    else:
        vectorizer = f"CountVectorizer(ngram_range=({ngram[0]}, {ngram[1]})), no min_df,"
    texts_are = (f"whole real texts ({rs['mean_words']:.0f} words on average)" if whole_texts
                 else f"real texts cut to {rs['mean_words']:.0f} words")
    intro = (f"{vectorizer} + {classifier} on "
             f"{tr['n_documents']} documents: {rs['n_features']:,} features, {rs['n_classes']} "
             f"classes. {rs['texts']} {texts_are} "
             f"({rs['mean_nnz']:.1f} known features each on average), one document per call: "
             f"`Model::predict` (crates/classify-core/benches/predict.rs, {rs['predict_calls']:,} "
             f"calls) vs `clf.predict(vec.transform([text]))` ({sk['sparse_calls']:,} calls). "
             "The first row cycles through all the texts, so most of the model's lines a text "
             "needs are not in cache; the row below it times the first text alone. "
             f"Timed in {rounds} alternating rounds (sklearn, then the core, then the other way "
             "round): times are the rounds' medians, a ratio is the median of the rounds' own "
             "ratios (their range in brackets). Load, memory and the dense predict are from "
             "the first round.")
    print(intro)
    print()
    print(text_table(header, [[str(c).replace("**", "") for c in row] for row in rows]))
    if args.markdown:
        kind = "" if analyzer == "word" else analyzer.replace("_", "") + "-"
        name = f"micro-{kind}{'hash' if hashing else ''}{ngram[0]}{ngram[1]}"
        option = " --vectorizer hashing" if hashing else ""
        command = args.command_line or (f"scripts/bench/micro --ngram {ngram[0]},{ngram[1]}"
                                        f"{option} --markdown docs/benchmarks.md")
        grams = "n-grams" if analyzer == "word" else f"{analyzer} character n-grams"
        body = (f"## Micro-benchmark: featurize + predict per document, "
                f"{'hashed ' if hashing else ''}{grams} ({ngram[0]}, {ngram[1]})\n\n"
                f"`{command}`\n\n{intro}\n\n{table(header, rows)}\n\n"
                f"{facts_line(facts)}\n")
        replace_section(args.markdown, name, body)


# ----------------------------------------------------------------------------------------------
# run


def load_results(path):
    records = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    meta = next((r for r in records if r["kind"] == "meta"), {})
    loads = median_rounds([r for r in records if r["kind"] == "load"])
    starts = {r["server"]: r for r in records if r["kind"] == "start"}
    prefork = [r for r in records if r["kind"] == "prefork"]
    return meta, loads, starts, prefork


def median_rounds(loads):
    """One record per (server, connections): the median of its rounds' req/s and latencies,
    every round's errors, the largest PSS."""
    groups = {}
    for r in loads:
        groups.setdefault((r["server"], r["conns"]), []).append(r)
    merged = []
    for rounds in groups.values():
        record = dict(rounds[0])
        for key in ("rps", "p50_ms", "p99_ms"):
            record[key] = statistics.median(r[key] for r in rounds)
        for key in ("requests", "errors_status", "errors_socket"):
            record[key] = sum(r[key] for r in rounds)
        record["pss_kib"] = max(r["pss_kib"] for r in rounds)
        record["rounds"] = [r["rps"] for r in rounds]
        merged.append(record)
    return merged


def by(loads, server, conns):
    for r in loads:
        if r["server"] == server and r["conns"] == conns:
            return r
    return None


def mb(kib, digits=0):
    return f"{kib / 1024:.{digits}f} MB" if kib else "–"


def ratio_text(a, b, digits=2):
    if not a or not b:
        return "–"
    return f"{a / b:.{digits}f}×"


def run_report(args):
    meta, loads, starts, prefork = load_results(args.results)
    conns = sorted({r["conns"] for r in loads})
    wsgi = sorted({r["server"] for r in loads if r["server"].startswith("wsgi")},
                  key=lambda s: [int(x) for x in re.findall(r"\d+", s)])
    recipe = meta.get("recipe_server", "wsgi p1 t5")
    high = max(conns) if conns else 64

    def best_wsgi():
        scored = [(by(loads, s, high)["rps"] if by(loads, s, high) else 0, s) for s in wsgi]
        return max(scored)[1] if scored else None

    tuned = best_wsgi()
    servers = [("static file (ceiling)", "static"), ("mod_classify", "mod_classify"),
               ("incumbent, as the recipe configures it (processes=1 threads=5)", recipe)]
    if tuned and tuned != recipe:
        servers.append((f"incumbent, tuned (best at -c{high}: {tuned[5:]})", tuned))
    elif tuned:
        servers.append(("incumbent, tuned (the recipe's own setting was best)", tuned))
    measured = {r["server"] for r in loads}
    if "mod_classify-v2" in measured:
        servers.append(("mod_classify, Open Inference Protocol (POST /v2/…/infer)",
                        "mod_classify-v2"))
    if "MLServer" in measured:
        servers.append((f"MLServer {meta.get('mlserver') or ''} + mlserver-sklearn, same "
                        "pipeline, same POST".replace("  ", " "), "MLServer"))

    header = ["server"]
    for c in conns:
        header += [f"req/s -c{c}", f"p50 / p99 -c{c}"]
    header += ["errors", "PSS under load", "start → first answer", "model load"]
    rows = []
    for title, server in servers:
        row = [title]
        errors = 0
        pss = 0
        for c in conns:
            r = by(loads, server, c)
            if r is None:
                row += ["–", "–"]
                continue
            row += [f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms"]
            errors += r["errors_status"] + r["errors_socket"]
            pss = max(pss, r["pss_kib"])
        start = starts.get(server, {})
        row += [str(errors), mb(pss),
                f"{start['first_answer_ms'] / 1000:.2f} s" if start.get("first_answer_ms") else "–",
                f"{start['load_ms'] / 1000:.2f} s" if start.get("load_ms") is not None else "–"]
        rows.append(row)

    def rps(server, c):
        r = by(loads, server, c)
        return r["rps"] if r else None

    def p99(server, c):
        r = by(loads, server, c)
        return r["p99_ms"] if r else None

    def pss(server):
        values = [r["pss_kib"] for r in loads if r["server"] == server]
        return max(values) if values else None

    def ratio(a, b):
        return a / b if a and b else None

    def ratio_row(label, value, digits, target="", holds=None):
        """A row of the ratio table; a ratio missing a side (a partial run) is not measured."""
        if value is None:
            return [label, "not measured", target, ""]
        return [label, f"{value:.{digits}f}×", target, verdict(holds(value)) if holds else ""]

    ratio_rows = []
    for c in conns:
        ratio_rows.append(ratio_row(f"mod_classify / static file, req/s at -c{c}",
                                    ratio(rps("mod_classify", c), rps("static", c)), 2,
                                    "≥ 0.9×", lambda v: v >= 0.9))
    for c in conns:
        ratio_rows.append(ratio_row(f"mod_classify / incumbent (recipe), req/s at -c{c}",
                                    ratio(rps("mod_classify", c), rps(recipe, c)), 0,
                                    "≥ 100×", lambda v: v >= 100))
        if tuned and tuned != recipe:
            ratio_rows.append(ratio_row(f"mod_classify / incumbent (tuned), req/s at -c{c}",
                                        ratio(rps("mod_classify", c), rps(tuned, c)), 0))
        ratio_rows.append(ratio_row(f"static file / incumbent (recipe), req/s at -c{c}",
                                    ratio(rps("static", c), rps(recipe, c)), 0,
                                    "(issue: ~140×)"))
    ratio_rows.append(ratio_row(f"mod_classify / static file, p99 at -c{high}",
                                ratio(p99("mod_classify", high), p99("static", high)), 2,
                                "≤ 1.2×", lambda v: v <= 1.2))
    ratio_rows.append(ratio_row("incumbent (recipe) / mod_classify, PSS under load",
                                ratio(pss(recipe), pss("mod_classify")), 1))
    if "MLServer" in measured:
        for c in conns:
            ratio_rows.append(ratio_row(f"mod_classify-v2 / MLServer, req/s at -c{c}",
                                        ratio(rps("mod_classify-v2", c), rps("MLServer", c)), 1,
                                        "(issue #21: ~27×)" if c == 16 else ""))
        ratio_rows.append(ratio_row(f"MLServer / mod_classify-v2, p99 at -c{high}",
                                    ratio(p99("MLServer", high), p99("mod_classify-v2", high)), 1))
        ratio_rows.append(ratio_row("MLServer / mod_classify, PSS under load",
                                    ratio(pss("MLServer"), pss("mod_classify")), 1))

    tune_header = ["mod_wsgi daemon"]
    for c in conns:
        tune_header += [f"req/s -c{c}", f"p99 -c{c}"]
    tune_header += ["errors", "PSS", "start → first answer"]
    tune_rows = []
    for server in wsgi:
        row = [server[5:] + (" (recipe)" if server == recipe else "")]
        errors = 0
        for c in conns:
            r = by(loads, server, c)
            row += ([f"{r['rps']:,.0f}", f"{r['p99_ms']:.1f} ms"] if r else ["–", "–"])
            if r:
                errors += r["errors_status"] + r["errors_socket"]
        start = starts.get(server, {})
        row += [str(errors), mb(pss(server)),
                f"{start['first_answer_ms'] / 1000:.2f} s" if start.get("first_answer_ms") else "–"]
        tune_rows.append(row)

    model_rss = meta.get("model_rss_kib", 0)
    # Issue 21's target: the children share one copy of the model, so N of them cost the file
    # the exporter wrote plus 1.2× what the same Apache costs without mod_classify.
    model_file_kib = meta.get("model_bytes", 0) / 1024
    pre_rows = []
    ns = sorted({r["n"] for r in prefork})
    for n in ns:
        get = {r["variant"]: r for r in prefork if r["n"] == n}
        bare, mc, wi = get.get("bare"), get.get("mod_classify"), get.get("wsgi")
        row = [str(n), mb(bare["pss_kib"], 1) if bare else "–",
               mb(mc["pss_kib"], 1) if mc else "–"]
        if bare and mc:
            delta = mc["pss_kib"] - bare["pss_kib"]
            limit = model_file_kib + 1.2 * bare["pss_kib"]
            row += [mb(delta, 1), mb(limit, 1), verdict(mc["pss_kib"] <= limit)]
        else:
            row += ["–", "–", ""]
        row += [mb(wi["pss_kib"]) if wi else "–"]
        row += [f"{mc['procs']}" if mc else "–"]
        pre_rows.append(row)
    pre_header = ["N children", "bare Apache", "mod_classify", "difference",
                  "limit: model file + 1.2× bare", "target", "incumbent (mod_wsgi processes=N threads=1)",
                  "processes counted"]

    facts = machine_facts()
    dur = meta.get("duration", "?")
    intro = (
        f"`scripts/bench/run --duration {dur}` — one model, "
        f"{meta.get('vectorizer', 'CountVectorizer(ngram_range=(1, 2))')} + LinearSVC "
        f"(scripts/train_sklearn.py) on {meta.get('documents', '?')} documents: "
        f"{meta.get('n_features', '?'):,} features, {meta.get('n_classes', '?')} classes; "
        f"served from a {meta.get('model_format', '?')} model file of "
        f"{meta.get('model_bytes', 0) / 1e6:.0f} MB ({mb(model_rss)} resident once loaded). "
        f"`wrk -t{meta.get('wrk_threads', 2)} -d{dur}s` at "
        + " and ".join(f"-c{c}" for c in conns)
        + f", keep-alive, rotating through {meta.get('texts', '?')} real texts "
        f"(first {meta.get('words', '?')} words of held-out descriptions, percent-encoded in the path). "
        f"mod_classify{' (GET and /v2 POST)' if 'mod_classify-v2' in measured else ''} and "
        f"the static file are measured in {meta.get('rounds', 1)} alternating "
        "rounds at each connection count and reported by their medians (every round is listed "
        "below the chart); the incumbent runs once per setting. "
        "All servers are Debian's apache2 with the event MPM (Apache's compiled-in defaults: "
        "StartServers 3, ThreadsPerChild 25, MaxRequestWorkers 400 — with Debian's StartServers 2 "
        "the event MPM closes keep-alive connections early at -c64; no access log; keep-alive "
        "not capped at 100 requests, since wrk's next request races the close and counts as a "
        "read error) on 127.0.0.1; wrk runs on "
        "the same 2 cores, so every server shares the CPU with the load generator. Errors = "
        "non-2xx answers + socket errors (connect, read, write, timeout). PSS = sum of "
        "/proc/PID/smaps_rollup Pss over the Apache parent, its children and the mod_wsgi daemon "
        "processes, read right after each load run. Start → first answer: from `apache2 -k start` "
        "to the first 200 with a label. Model load: mod_classify's `CLS00003` error-log line; for "
        "the incumbent, the time the app spends unpickling (logged by the app).")
    if any(s == "MLServer" for _, s in servers) or any(s == "mod_classify-v2" for _, s in servers):
        intro += (
            " The Open Inference Protocol rows POST one JSON body per text, the same bytes to both "
            "servers, `{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
            "\"data\":[TEXT]}]}` with `Content-Type: application/json`, to "
            "`/v2/models/sections/infer` (scripts/bench/wrk.lua in post mode): mod_classify's "
            "`SetHandler classify-v2` on the same Apache as the GET rows (measured in the same "
            "alternating rounds), and MLServer (`mlserver start`, `mlserver_sklearn.SKLearnModel` "
            "loading the benchmark's CountVectorizer + LinearSVC as one joblib-dumped Pipeline; "
            "its default numpy codec passes the texts to `Pipeline.predict`; MLServer's defaults "
            "otherwise — one inference worker process, gRPC and metrics on their own loopback "
            "ports — but `debug` off), run once per connection count after the others, with no "
            "other server of this benchmark running. MLServer's PSS is summed over its process "
            "tree (`mlserver` and its children, the inference worker among them); its start → first answer is from `mlserver start` to its model's "
            "`ready`.")
    title = "## Over HTTP: mod_classify vs the incumbent vs a static file"
    if any(s == "MLServer" for _, s in servers):
        title += " vs MLServer"
    md = [title, "", intro, "",
          table(header, rows), "", "### Ratios (same run) and the targets of issue 6", "",
          table(["ratio", "measured", "target", ""], ratio_rows), ""]
    if args.chart:
        md += [f"![req/s and memory]({os.path.basename(args.chart)})", ""]
    round_lines = [f"{r['server']} -c{r['conns']}: "
                   + ", ".join(f"{v:,.0f}" for v in r["rounds"]) + " req/s"
                   for r in loads if len(r.get("rounds", [])) > 1]
    if round_lines:
        md += ["Every round, in order: " + "; ".join(round_lines) + ".", ""]
    md += ["### The incumbent at other process/thread counts", "",
           "Same Apache, same app; only `WSGIDaemonProcess app processes=P threads=T` changes. "
           f"The best at -c{high} is the \"tuned\" row above.", "",
           table(tune_header, tune_rows), ""]
    if pre_rows:
        md += ["### Memory of N prefork children sharing one model", "",
               "prefork with StartServers = MinSpareServers = MaxSpareServers = MaxRequestWorkers = "
               "N; each child answered requests before the reading (wrk -cN for a few seconds), "
               "then PSS was summed over the parent and all children. \"bare Apache\" is the same "
               "configuration without mod_classify. The model is served as the exporter wrote it "
               f"(binary form, word index included): its file is {mb(model_file_kib, 1)}, the limit's "
               f"model term; resident memory of the loaded model in a plain process: {mb(model_rss, 1)} "
               "(crates/classify-core/benches/predict.rs). "
               "The incumbent column is Apache (event) + `WSGIDaemonProcess processes=N threads=1`, "
               "each daemon process warmed by requests.", "", table(pre_header, pre_rows), ""]
    md += [facts_line(facts), "",
           "Longer runs: `scripts/bench/run --duration 60` (about 15 minutes with the default "
           "set of mod_wsgi settings); `--wsgi \"1x5 2x3\"` limits the incumbent settings tried, "
           "`--prefork \"1 8 32\"` the prefork sizes."]
    print("\n".join(md))
    if args.markdown:
        replace_section(args.markdown, "run", "\n".join(md))
    if args.chart:
        chart(args.chart, loads, servers, conns, pss, prefork)


def chart(path, loads, servers, conns, pss, prefork):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    short = {"static": "static file\n(same Apache as\nmod_classify)", "mod_classify": "mod_classify",
             "mod_classify-v2": "mod_classify\n/v2 infer", "MLServer": "MLServer\n/v2 infer"}
    names = [short.get(s, "incumbent\n" + s[5:].replace(" ", ", ")) for _, s in servers]
    ncols = 3 if prefork else 2
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 5.2))
    ax = axes[0]
    width = 0.8 / max(1, len(conns))
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for i, c in enumerate(conns):
        values = [(by(loads, s, c) or {}).get("rps", 0) for _, s in servers]
        xs = [x + (i - (len(conns) - 1) / 2) * width for x in range(len(servers))]
        bars = ax.bar(xs, values, width, label=f"-c{c}", color=colors[i % len(colors)])
        for bar, v in zip(bars, values):
            ax.annotate(f"{v:,.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center",
                        va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(servers)))
    ax.set_xticklabels(names, fontsize=9)
    ax.set_ylabel("requests per second (log scale)")
    ax.set_title("Throughput (wrk, keep-alive)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)

    ax = axes[1]
    values = [(pss(s) or 0) / 1024 for _, s in servers]
    bars = ax.bar(range(len(servers)), values, color="#8172b3")
    for bar, v in zip(bars, values):
        ax.annotate(f"{v:,.0f} MB", (bar.get_x() + bar.get_width() / 2, v), ha="center",
                    va="bottom", fontsize=9)
    ax.set_xticks(range(len(servers)))
    ax.set_xticklabels(names, fontsize=9)
    ax.set_ylabel("MB (sum of PSS over all server processes)")
    ax.set_title("Memory under load")
    ax.grid(axis="y", alpha=0.3)

    if prefork:
        ax = axes[2]
        ns = sorted({r["n"] for r in prefork})
        for variant, label, color in [("bare", "bare Apache (prefork)", "#999999"),
                                      ("mod_classify", "mod_classify (prefork)", "#dd8452"),
                                      ("wsgi", "incumbent (mod_wsgi processes=N)", "#c44e52")]:
            points = [(r["n"], r["pss_kib"] / 1024) for r in prefork if r["variant"] == variant]
            points.sort()
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=label,
                        color=color)
                for x, y in points:
                    ax.annotate(f"{y:,.0f}", (x, y), textcoords="offset points", xytext=(0, 6),
                                ha="center", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ns)
        ax.set_xticklabels([str(n) for n in ns])
        ax.set_xlabel("N processes")
        ax.set_ylabel("MB (sum of PSS, log scale)")
        ax.set_title("N processes sharing one model")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("micro")
    p.add_argument("--sklearn", required=True)
    p.add_argument("--rust", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--markdown")
    p.add_argument("--baseline", help="another build's predict bench rounds (micro --baseline)")
    p.add_argument("--baseline-name")
    p.add_argument("--command-line", help="the micro command line the section shows")
    p = sub.add_parser("run")
    p.add_argument("--results", required=True)
    p.add_argument("--markdown")
    p.add_argument("--chart")
    args = parser.parse_args()
    if args.command == "micro":
        micro(args)
    else:
        run_report(args)


if __name__ == "__main__":
    sys.exit(main())
