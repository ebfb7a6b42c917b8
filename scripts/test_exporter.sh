#!/bin/bash
# Tests of scripts/export_sklearn.py (python/classify_export) that need sklearn (Debian:
# /usr/bin/python3 + python3-sklearn):
#  - models it must refuse exit with status 2 and a message naming the option at fault;
#  - a supported Pipeline (joblib) and a two-pickle vectorizer + classifier export and load;
#  - --verify passes against a `classify` that answers like sklearn and fails (status 1) against
#    one that does not; with the real `classify` binary when it is built;
#  - the package's own self-test (python/tests/test_export.py: every converter, and the reference
#    evaluator of format 2 against sklearn).
# Usage: bash scripts/test_exporter.sh     (CLASSIFY_BIN=path/to/classify to choose the binary)
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
EXPORT="$PYTHON scripts/export_sklearn.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

$PYTHON scripts/make_golden.py --refused "$work" || { echo "cannot build the test models"; exit 1; }

# --- refusals: exit status 2 and the option named in the message
while IFS=$'\t' read -r name needle; do
    [ -n "$name" ] || continue
    $EXPORT --vectorizer "$work/$name.vectorizer.pickle" --classifier "$work/$name.classifier.pickle" \
        -o "$work/$name.model.json" >"$work/out" 2>&1
    status=$?
    if [ $status -ne 2 ]; then
        fail "$name: exit status $status, expected 2: $(cat "$work/out")"
    elif ! grep -qF -- "$needle" "$work/out"; then
        fail "$name: message does not name '$needle': $(cat "$work/out")"
    elif [ -e "$work/$name.model.json" ]; then
        fail "$name: refused but still wrote a model file"
    else
        pass "$name refused: $(tail -n 1 "$work/out")"
    fi
done <"$work/expected_refusals.tsv"

# --- usage errors are status 2 too
$EXPORT --vectorizer "$work/good.vectorizer.pickle" -o "$work/x.json" >"$work/out" 2>&1
[ $? -eq 2 ] && pass "missing --classifier is a usage error" || fail "missing --classifier: $(cat "$work/out")"
$EXPORT --pipeline "$work/does-not-exist" -o "$work/x.json" >"$work/out" 2>&1
[ $? -eq 2 ] && grep -q "cannot read" "$work/out" && pass "unreadable pipeline named" || fail "missing file: $(cat "$work/out")"

# --- supported exports
for form in pipeline pickles; do
    if [ $form = pipeline ]; then
        args=(--pipeline "$work/good.pipeline.joblib")
    else
        args=(--vectorizer "$work/good.vectorizer.pickle" --classifier "$work/good.classifier.pickle")
    fi
    if $EXPORT "${args[@]}" -o "$work/$form.model.json" >"$work/out" 2>&1; then
        $PYTHON -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m['format'] == 'mod_classify-model' and m['format_version'] == 1, m.get('format')
assert m['metadata']['sklearn_version'] and m['metadata']['classifier_class'] == 'LinearSVC'
assert m['classifier']['kind'] == 'linear' and m['classifier']['classes'] == ['games', 'science']
assert ('tfidf' in m) == (sys.argv[2] == 'pipeline')
" "$work/$form.model.json" $form && pass "$form exported" || fail "$form: unexpected model file"
    else
        fail "$form export failed: $(cat "$work/out")"
    fi
done

# --- kernel SVMs: an SVC pipeline (probability=True, ovo) and an NuSVC fitted on a dense matrix
for form in svc nusvc_dense; do
    if [ $form = svc ]; then
        args=(--pipeline "$work/good_svc.pipeline.joblib"); estimator=SVC
    else
        args=(--vectorizer "$work/good_nusvc_dense.vectorizer.pickle"
              --classifier "$work/good_nusvc_dense.classifier.pickle"); estimator=NuSVC
    fi
    if $EXPORT "${args[@]}" -o "$work/$form.model.json" >"$work/out" 2>&1; then
        $PYTHON -c "
import json, sys
c = json.load(open(sys.argv[1]))['classifier']
assert c['kind'] == 'svc' and c['estimator'] == sys.argv[2], (c['kind'], c['estimator'])
assert c['classes'] == ['games', 'science'] and len(c['dual_coef']) == 1 and len(c['intercept']) == 1
assert len(c['support_vectors']['indptr']) == sum(c['n_support']) + 1
assert (c['prob_a'] is not None) == (sys.argv[2] == 'SVC')
assert isinstance(c['gamma'], float)
" "$work/$form.model.json" $estimator && pass "$form exported" || fail "$form: unexpected model file"
    else
        fail "$form export failed: $(cat "$work/out")"
    fi
done

# --- --verify with stand-in classify binaries: one that prints sklearn's answers (`classify
# predict --scores` JSON lines: label, scores, no probabilities for LinearSVC), one that does not
$PYTHON - "$work" <<'EOF'
import json, sys, os
work = sys.argv[1]
import joblib
pipe = joblib.load(os.path.join(work, "good.pipeline.joblib"))
texts = [l[:-1] for l in open(os.path.join(work, "texts.txt"), encoding="utf-8")]
labels = [str(x) for x in pipe.predict(texts)]
scores = [[float(s)] for s in pipe.decision_function(texts)]
def write(name, labels):
    with open(os.path.join(work, name), "w") as f:
        for label, score in zip(labels, scores):
            f.write(json.dumps({"label": label, "scores": score}) + "\n")
write("labels.txt", labels)
wrong = list(labels)
wrong[3] = "games" if wrong[3] != "games" else "science"
write("wrong.txt", wrong)
EOF
printf '#!/bin/sh\ncat "%s/labels.txt"\n' "$work" >"$work/classify-good" && chmod +x "$work/classify-good"
printf '#!/bin/sh\ncat "%s/wrong.txt"\n' "$work" >"$work/classify-wrong" && chmod +x "$work/classify-wrong"
$EXPORT --pipeline "$work/good.pipeline.joblib" -o "$work/v.json" --verify "$work/texts.txt" \
    --classify "$work/classify-good" >"$work/out" 2>&1
[ $? -eq 0 ] && grep -q "identical" "$work/out" && pass "--verify accepts identical labels" \
    || fail "--verify with identical labels: $(cat "$work/out")"
$EXPORT --pipeline "$work/good.pipeline.joblib" -o "$work/v.json" --verify "$work/texts.txt" \
    --classify "$work/classify-wrong" >"$work/out" 2>&1
[ $? -eq 1 ] && grep -q "line 4" "$work/out" && pass "--verify reports a difference (status 1, line 4)" \
    || fail "--verify with a wrong label: $(cat "$work/out")"

# --- --verify with the real classify binary, if built
real=${CLASSIFY_BIN:-}
for candidate in target/release/classify target/debug/classify; do
    [ -z "$real" ] && [ -x "$candidate" ] && real=$candidate
done
if [ -n "$real" ]; then
    for form in pipeline pickles; do
        if [ $form = pipeline ]; then
            args=(--pipeline "$work/good.pipeline.joblib")
        else
            args=(--vectorizer "$work/good.vectorizer.pickle" --classifier "$work/good.classifier.pickle")
        fi
        $EXPORT "${args[@]}" -o "$work/real.json" --verify "$work/texts.txt" --classify "$real" >"$work/out" 2>&1
        [ $? -eq 0 ] && pass "--verify ($form) with $real: $(tail -n 1 "$work/out")" \
            || fail "--verify ($form) with $real: $(cat "$work/out")"
    done
    for form in svc nusvc_dense; do
        if [ $form = svc ]; then
            args=(--pipeline "$work/good_svc.pipeline.joblib")
        else
            args=(--vectorizer "$work/good_nusvc_dense.vectorizer.pickle"
                  --classifier "$work/good_nusvc_dense.classifier.pickle")
        fi
        $EXPORT "${args[@]}" -o "$work/real.json" --verify "$work/texts.txt" --classify "$real" >"$work/out" 2>&1
        [ $? -eq 0 ] && pass "--verify ($form) with $real: $(tail -n 1 "$work/out")" \
            || fail "--verify ($form) with $real: $(cat "$work/out")"
    done
else
    echo "skip: no classify binary built (cargo build -p classify-cli) for a real --verify"
fi

# --- the package's self-test: every converter's model structure, and format 2's semantics checked
# by a pure-Python reference evaluator against sklearn
if $PYTHON python/tests/test_export.py >"$work/out" 2>&1; then
    pass "python/tests/test_export.py: $(tail -n 1 "$work/out")"
else
    fail "python/tests/test_export.py: $(tail -n 30 "$work/out")"
fi

if [ $failures -ne 0 ]; then
    echo "$failures exporter test(s) failed"
    exit 1
fi
echo "all exporter tests passed"
