#!/usr/bin/env python3
"""Checks a live mod_classify `classify-v2` endpoint with NVIDIA's own client, tritonclient[http].

    pip install 'tritonclient[http]' numpy
    python3 tests/python/v2_tritonclient.py --url 127.0.0.1:8080 --model NAME \
        --expected EXPECTED.jsonl

EXPECTED.jsonl holds one {"text": ..., "label": ...} object per line: the texts to classify and
the label each must get. The server must serve the Open Inference Protocol under /v2 (the client
adds /v2 itself; a --url may carry a path prefix, e.g. 127.0.0.1:8080/prefix).

Checks: server live and ready, server metadata (binary_tensor_data extension), model ready and
metadata (input "text" BYTES, outputs "label" BYTES and "scores" FP64 [-1, n_classes]); then
inference three ways — binary tensors (tritonclient's default), plain JSON, and no requested
outputs (all outputs, binary) — each answering the expected labels, echoing the request id, and
scores of shape [n, n_classes] identical across the three; and that an unknown model is not ready,
has no metadata and cannot infer (InferenceServerException). Prints every difference and exits 1
if there is any, 2 on bad arguments.
"""

import argparse
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

UNKNOWN_MODEL = "no-such-model-for-v2-test"


class Checker:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
            print(f"FAIL: {what}", file=sys.stderr)
        return ok

    def equal(self, got, expected, what):
        return self.check(got == expected, f"{what}: got {got!r}, expected {expected!r}")


def read_expected(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
                text, label = case["text"], case["label"]
            except (ValueError, KeyError, TypeError) as error:
                raise SystemExit(f"{path}:{number}: not a {{\"text\", \"label\"}} object: {error}")
            if not isinstance(text, str):
                raise SystemExit(f"{path}:{number}: \"text\" must be a string")
            texts.append(text)
            # Labels are compared as the server prints them: integers as digits.
            labels.append(label if isinstance(label, str) else json.dumps(label))
    if not texts:
        raise SystemExit(f"{path}: no cases")
    return texts, labels


def as_text(value):
    """A BYTES element: bytes from binary outputs, str from JSON ones."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check_metadata(client, model, check):
    check.check(client.is_server_live(), "server is not live")
    check.check(client.is_server_ready(), "server is not ready")
    server = client.get_server_metadata()
    check.equal(server.get("name"), "mod_classify", "server metadata name")
    check.check(
        "binary_tensor_data" in server.get("extensions", []),
        f"server metadata does not list binary_tensor_data: {server}",
    )
    check.check(client.is_model_ready(model), f"model {model!r} is not ready")
    metadata = client.get_model_metadata(model)
    check.equal(metadata.get("name"), model, "model metadata name")
    check.equal(
        metadata.get("inputs"),
        [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
        "model metadata inputs",
    )
    outputs = {output["name"]: output for output in metadata.get("outputs", [])}
    check.check(
        {"label", "scores"} <= outputs.keys(), f"model metadata outputs: {list(outputs)}"
    )
    n_classes = None
    if "scores" in outputs:
        shape = outputs["scores"].get("shape")
        check.equal(outputs["scores"].get("datatype"), "FP64", "scores datatype")
        if check.check(
            isinstance(shape, list) and len(shape) == 2 and shape[0] == -1,
            f"scores shape in metadata: {shape}",
        ):
            n_classes = shape[1]
    classes = metadata.get("classes")
    if classes is not None and n_classes is not None:
        check.equal(len(classes), n_classes, "number of classes in metadata")
    return n_classes


def infer(client, model, texts, request_id, binary):
    """One inference; binary=None asks for no particular outputs (the client then asks for all
    outputs in binary form)."""
    text = httpclient.InferInput("text", [len(texts)], "BYTES")
    text.set_data_from_numpy(np.array(texts, dtype=object), binary_data=binary is not False)
    outputs = None
    if binary is not None:
        outputs = [
            httpclient.InferRequestedOutput("label", binary_data=binary),
            httpclient.InferRequestedOutput("scores", binary_data=binary),
        ]
    return client.infer(model, [text], request_id=request_id, outputs=outputs)


def check_inference(client, model, texts, labels, n_classes, check):
    all_scores = {}
    for request_id, binary in (("v2-binary", True), ("v2-json", False), ("v2-default", None)):
        what = f"infer {request_id}"
        try:
            result = infer(client, model, texts, request_id, binary)
        except InferenceServerException as error:
            check.check(False, f"{what}: {error}")
            continue
        response = result.get_response()
        check.equal(response.get("id"), request_id, f"{what}: echoed id")
        check.equal(response.get("model_name"), model, f"{what}: model_name")
        got = result.as_numpy("label")
        if not check.check(got is not None, f"{what}: no label output"):
            continue
        got = [as_text(value) for value in got.reshape(-1)]
        if not check.equal(len(got), len(labels), f"{what}: number of labels"):
            continue
        for i, (label, expected) in enumerate(zip(got, labels)):
            check.equal(label, expected, f"{what}: label of text {i} {texts[i][:60]!r}")
        scores = result.as_numpy("scores")
        if not check.check(scores is not None, f"{what}: no scores output"):
            continue
        check.equal(list(scores.shape), [len(texts), n_classes], f"{what}: scores shape")
        check.equal(scores.dtype, np.float64, f"{what}: scores dtype")
        all_scores[request_id] = scores
    if len(all_scores) > 1:
        first_id, first = next(iter(all_scores.items()))
        for request_id, scores in all_scores.items():
            check.check(
                scores.shape == first.shape and np.array_equal(scores, first),
                f"scores of {request_id} differ from those of {first_id}",
            )


def check_unknown_model(client, texts, check):
    check.check(not client.is_model_ready(UNKNOWN_MODEL), "an unknown model is ready")
    for what, call in (
        ("get_model_metadata", lambda: client.get_model_metadata(UNKNOWN_MODEL)),
        ("infer", lambda: infer(client, UNKNOWN_MODEL, texts[:1], "v2-unknown", True)),
    ):
        try:
            call()
            check.check(False, f"{what} of an unknown model raised no InferenceServerException")
        except InferenceServerException as error:
            check.equal(error.status(), "404", f"{what} of an unknown model: status")
            check.check(bool(error.message()), f"{what} of an unknown model: empty error")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="HOST:PORT[/prefix], no scheme")
    parser.add_argument("--model", required=True, help="the model's name on the server")
    parser.add_argument("--expected", required=True, help="JSON lines of {text, label}")
    parser.add_argument("--verbose", action="store_true", help="print tritonclient's traffic")
    args = parser.parse_args()

    texts, labels = read_expected(args.expected)
    check = Checker()
    client = httpclient.InferenceServerClient(url=args.url, verbose=args.verbose)
    try:
        n_classes = check_metadata(client, args.model, check)
        check_inference(client, args.model, texts, labels, n_classes, check)
        check_unknown_model(client, texts, check)
    except InferenceServerException as error:
        check.check(False, f"unexpected server error: {error}")
    except OSError as error:
        check.check(False, f"cannot talk to the server at {args.url}: {error}")
    finally:
        client.close()
    if check.failures:
        print(f"{len(check.failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"ok: {len(texts)} texts, {n_classes} classes, binary and JSON inference agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
