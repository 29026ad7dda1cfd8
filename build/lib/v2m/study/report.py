"""The report of a listening study: exclusions, MOS with 95 % CI, paired tests, agreement,
A/B preferences (see :mod:`v2m.study`)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from pathlib import Path

import numpy as np

from .._io import json_safe, write_text_atomic
from .stats import holm, krippendorff_alpha, mean_ci, wilcoxon_pairs


def _answers(rows) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for pid, trial, q, v in rows:
        out.setdefault(pid, {}).setdefault(trial, {})[q] = v
    return out


def _exclusions(study: dict, answers: dict) -> dict[str, str]:
    checks = [t for t in study["trials"] if t["kind"] == "attention"]
    out = {}
    for pid, by_trial in answers.items():
        for t in checks:
            got = by_trial.get(t["id"])
            if got is None:
                continue
            wrong = {q: v for q, v in got.items() if int(v) != t["expected"]}
            if wrong:
                out[pid] = f"attention check asked for {t['expected']}, answered " + ", ".join(
                    f"{q}={v}" for q, v in sorted(wrong.items())
                )
                break
    return out


def build_report(study: dict, rows) -> dict:
    answers = _answers(rows)
    excluded = _exclusions(study, answers)
    included = sorted(p for p in answers if p not in excluded)
    trials = {t["id"]: t for t in study["trials"]}
    stim = study["stimuli"]
    systems = study["systems"]
    # ratings[q][system][(participant, item)] = value
    ratings: dict[str, dict[str, dict]] = {q: {s: {} for s in systems} for q in study["questions"]}
    ab: dict[tuple[str, str], list[str]] = {}
    for pid in included:
        for tid, got in answers[pid].items():
            t = trials.get(tid)
            if t is None or t["kind"] == "attention":
                continue
            if t["kind"] == "mos":
                st = stim[t["stimuli"][0]]
                for q, v in got.items():
                    ratings[q][st["system"]][(pid, st["item"])] = int(v)
            else:
                pair = tuple(sorted(stim[s]["system"] for s in t["stimuli"]))
                chosen = got.get("preference")
                if chosen in stim:
                    ab.setdefault(pair, []).append(stim[chosen]["system"])
    mos = {s: {q: mean_ci(list(ratings[q][s].values())) for q in ratings} for s in systems}
    tests = {q: wilcoxon_pairs(ratings[q]) for q in ratings} if len(systems) > 1 else {}
    agreement = {}
    units = [(s, i) for s in systems for i in study["items"]]
    for q in ratings:
        m = np.full((len(included), len(units)), np.nan)
        for r, pid in enumerate(included):
            for u, (s, i) in enumerate(units):
                v = ratings[q][s].get((pid, i))
                if v is not None:
                    m[r, u] = v
        agreement[q] = krippendorff_alpha(m) if len(included) >= 2 else math.nan
    prefs = []
    for a, b in itertools.combinations(sorted(systems), 2):
        votes = ab.get((a, b), [])
        if not votes:
            continue
        from scipy.stats import binomtest

        wa = sum(v == a for v in votes)
        n = len(votes)
        prefs.append({"a": a, "b": b, "n": n, "a_wins": wa, "b_wins": n - wa,
                      "a_share": wa / n, "p": float(binomtest(wa, n, 0.5).pvalue)})  # fmt: skip
    for r, q in zip(prefs, holm([r["p"] for r in prefs]) if prefs else [], strict=True):
        r["p_holm"] = q
    return {
        "title": study["title"],
        "systems": systems,
        "questions": study["questions"],
        "question_text": study["question_text"],
        "participants": {
            "total": len(answers),
            "included": included,
            "excluded": [{"participant": p, "reason": r} for p, r in sorted(excluded.items())],
        },
        "mos": mos,
        "wilcoxon": tests,
        "agreement_alpha": agreement,
        "ab": prefs,
    }


def _fmt(x, nd=2) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def to_markdown(rep: dict) -> str:
    lines = [f"# {rep['title']}", ""]
    p = rep["participants"]
    lines.append(f"Participants: {len(p['included'])} included of {p['total']}.")
    for e in p["excluded"]:
        lines.append(f"- excluded {e['participant']}: {e['reason']}")
    lines += ["", "| system | " + " | ".join(rep["questions"]) + " |",
              "|---" * (len(rep["questions"]) + 1) + "|"]  # fmt: skip
    for s in rep["systems"]:
        cells = []
        for q in rep["questions"]:
            m = rep["mos"][s][q]
            half = (m["ci_high"] - m["ci_low"]) / 2 if np.isfinite(m["ci_high"]) else math.nan
            cells.append(f"{_fmt(m['mean'])} ± {_fmt(half)} (n={m['n']})")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines += ["", "MOS on 1-5, mean ± half the 95 % CI (Student's t).", ""]
    if rep["wilcoxon"]:
        lines += [
            "| question | a | b | n | median a-b | p | p (Holm) |",
            "|---|---|---|---|---|---|---|",
        ]
        for q, rows in rep["wilcoxon"].items():
            for r in rows:
                lines.append(f"| {q} | {r['a']} | {r['b']} | {r['n']} | "
                             f"{_fmt(r['median_diff'])} | {_fmt(r['p'], 4)} | "
                             f"{_fmt(r['p_holm'], 4)} |")  # fmt: skip
        lines.append("")
    lines.append("Agreement among participants (Krippendorff's alpha, interval): " + ", ".join(
        f"{q} {_fmt(a, 3)}" for q, a in rep["agreement_alpha"].items()))  # fmt: skip
    if rep["ab"]:
        lines += [
            "",
            "| A/B | n | a preferred | share | p | p (Holm) |",
            "|---|---|---|---|---|---|",
        ]
        for r in rep["ab"]:
            lines.append(
                f"| {r['a']} vs {r['b']} | {r['n']} | {r['a_wins']} | {_fmt(r['a_share'])} | "
                f"{_fmt(r['p'], 4)} | {_fmt(r['p_holm'], 4)} |"
            )
    return "\n".join(lines) + "\n"


def write_report(rep: dict, folder: Path) -> None:
    write_text_atomic(folder / "report.json", json.dumps(json_safe(rep), indent=1))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["system", "question", "n", "mean", "sd", "ci_low", "ci_high"])
    for s in rep["systems"]:
        for q in rep["questions"]:
            m = rep["mos"][s][q]
            w.writerow([s, q, m["n"], m["mean"], m["sd"], m["ci_low"], m["ci_high"]])
    write_text_atomic(folder / "report.csv", buf.getvalue())
    write_text_atomic(folder / "report.md", to_markdown(rep))
