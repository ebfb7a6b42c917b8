"""Expected explanations, computed with numpy from sklearn's own feature rows (golden cases).

usage: explain_numpy.py MODEL.json CASES.jsonl K  -> one JSON line per case:
{"text": ..., "explanation": [[feature, contribution], ...]}
"""
import json
import sys

import numpy as np

model_path, cases_path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(model_path, encoding="utf-8") as f:
    model = json.load(f)
classifier = model["classifier"]
classes = [str(c) for c in classifier["classes"]]
coef = np.array(classifier["coef"], dtype=np.float64)
vocabulary = model["vectorizer"]["vocabulary"]
with open(cases_path, encoding="utf-8") as f:
    for line in f:
        case = json.loads(line)
        indices = np.array(case["features"]["indices"], dtype=np.int64)
        values = np.array(case["features"]["values"], dtype=np.float64)
        predicted = classes.index(case["label"])
        if coef.shape[0] == 1:
            row, sign = 0, (1.0 if predicted == 1 else -1.0)
        else:
            row, sign = predicted, 1.0
        contributions = sign * values * coef[row, indices]
        order = np.argsort(-contributions, kind="stable")[:k]
        explanation = [[vocabulary[indices[i]], float(contributions[i])] for i in order]
        print(json.dumps({"text": case["text"], "explanation": explanation}))
