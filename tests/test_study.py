"""The listening-study kit: statistics against references, a study built from two systems'
outputs, completed by three participants in a real headless browser (one failing an
attention check), and the report's numbers checked against the answers given."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import cuts_video

from v2m.errors import InputError, OutputExistsError
from v2m.study import create_study, report_study
from v2m.study import stats as S

# --------------------------------------------------------------------------- statistics


def test_krippendorff_alpha_equals_the_reference_package():
    nan = np.nan
    d = np.array([  # Krippendorff's own example (4 coders x 12 units)
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ])  # fmt: skip
    assert S.krippendorff_alpha(d) == pytest.approx(0.849107, abs=1e-6)
    kd = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.integers(1, 6, size=(4, 9)).astype(float)
        x[rng.random(x.shape) < 0.2] = np.nan
        want = kd.alpha(reliability_data=x, level_of_measurement="interval")
        assert S.krippendorff_alpha(x) == pytest.approx(want, abs=1e-9)


def test_mean_ci_holm_and_wilcoxon():
    from scipy import stats

    m = S.mean_ci([3, 4, 5, 4])
    half = stats.t.ppf(0.975, 3) * np.std([3, 4, 5, 4], ddof=1) / 2
    assert m["mean"] == 4 and m["ci_high"] - 4 == pytest.approx(half)
    assert S.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    r = {"a": {(p, i): 4 + (p + i) % 2 for p in range(4) for i in range(3)},
         "b": {(p, i): 2 + (p * i) % 2 for p in range(4) for i in range(3)}}  # fmt: skip
    (row,) = S.wilcoxon_pairs(r)
    d = [r["a"][k] - r["b"][k] for k in sorted(r["a"])]
    assert row["p"] == pytest.approx(stats.wilcoxon(d).pvalue) and row["n"] == 12
    assert row["p_holm"] == pytest.approx(row["p"])


# --------------------------------------------------------------------------- the kit


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Two systems' music (different tones) for two videos with cuts."""
    root = tmp_path_factory.mktemp("study-src")
    for d in ("videos", "sysA", "sysB"):
        (root / d).mkdir()
    sr = 44100
    t = np.arange(int(2.4 * sr)) / sr
    for k, item in enumerate(("clip1", "clip2")):
        cuts_video(root / "videos" / f"{item}.mp4", cut_frames=(20 + 5 * k,), n_frames=60)
        for sys_, f0 in (("sysA", 330), ("sysB", 550)):
            y = 0.2 * np.sin(2 * np.pi * (f0 + 40 * k) * t)
            sf.write(root / sys_ / f"{item}.wav", np.stack([y, y], 1), sr)
    return root


def test_create_is_blind_and_complete(outputs, tmp_path):
    st = create_study({"sysA": outputs / "sysA", "sysB": outputs / "sysB"},
                      videos=outputs / "videos", pairwise=True, attention=1,
                      out_dir=tmp_path / "s")  # fmt: skip
    assert st["items"] == ["clip1", "clip2"] and st["questions"] == list(
        ["quality", "correspondence", "sync", "emotion"]
    )
    kinds = [t["kind"] for t in st["trials"]]
    assert kinds.count("mos") == 4 and kinds.count("ab") == 2 and kinds.count("attention") == 1
    names = [p.name for p in (tmp_path / "s" / "stimuli").iterdir()]
    assert len(names) == 4 and all(p.endswith(".mp4") for p in names)
    assert not any("sys" in n or "clip" in n for n in names)  # nothing gives a system away
    with pytest.raises(OutputExistsError):
        create_study({"sysA": outputs / "sysA"}, out_dir=tmp_path / "s")
    with pytest.raises(InputError, match="no such folder"):
        create_study({"x": tmp_path / "none"}, out_dir=tmp_path / "t")


pw = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def study(outputs, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (see README)")
    pytest.importorskip("starlette")
    from v2m._web import Server
    from v2m.study import create_app

    folder = tmp_path_factory.mktemp("study") / "s"
    st = create_study({"sysA": outputs / "sysA", "sysB": outputs / "sysB"},
                      videos=outputs / "videos", pairwise=True, attention=1,
                      out_dir=folder)  # fmt: skip
    srv = Server(create_app(folder)).start()
    yield folder, st, srv
    srv.stop()


def _complete(page, url, pid, rule, study, *, stop_after=None):
    """Answer every trial as ``rule(system, item, question)`` says (A/B: ``rule`` of the
    stimulus shown first); attention checks as ``rule(None, None, q)`` says."""
    page.goto(url)
    page.fill("#pid", pid)
    page.click("#begin")
    done = 0
    while True:
        page.wait_for_selector("#trial:not([hidden]), #thanks:not([hidden])")
        if page.is_visible("#thanks"):
            return done
        if stop_after is not None and done == stop_after:
            return done
        media = page.eval_on_selector_all("#media video", "els => els.map(e => e.src)")
        toks = [m.rsplit("/", 1)[1].split(".")[0] for m in media]
        instruction = page.inner_text("#instruction") if page.is_visible("#instruction") else ""
        names = page.eval_on_selector_all("#questions input", "els => els.map(e => e.name)")
        for q in dict.fromkeys(names):
            if q == "preference":
                st = study["stimuli"][toks[0]]
                v = "A" if rule(st["system"], st["item"], q) else "B"
            elif instruction:
                v = str(rule(None, None, q, instruction))
            else:
                st = study["stimuli"][toks[0]]
                v = str(rule(st["system"], st["item"], q))
            page.check(f"#questions input[name='{q}'][value='{v}']")
        pos = page.inner_text("#pos")
        page.click("#next")
        page.wait_for_function(
            f"() => document.getElementById('pos').textContent !== '{pos}' || "
            "!document.getElementById('thanks').hidden || "
            "document.getElementById('error').textContent !== ''"
        )
        assert page.inner_text("#error") == ""
        done += 1


def test_two_participants_complete_and_the_report_matches(study):
    folder, st, srv = study
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page()

        def attentive(expected_fn):
            def rule(system, item, q, instruction=""):
                if instruction:
                    return int(instruction.split("answer ")[1].split()[0])
                return expected_fn(system, item, q)

            return rule

        # p1: A is better; p2: A a little better; p3 fails the attention check
        r1 = attentive(
            lambda s, i, q: (5 if s == "sysA" else 2) if q != "preference" else s == "sysA"
        )  # noqa: E501
        r2 = attentive(
            lambda s, i, q: (4 if s == "sysA" else 3) if q != "preference" else s == "sysA"
        )  # noqa: E501

        def r3(system, item, q, instruction=""):
            if instruction:
                wanted = int(instruction.split("answer ")[1].split()[0])
                return 1 + wanted % 5  # never what was asked
            return 3 if q != "preference" else True

        # p1 stops half-way (the server keeps what was answered) and comes back
        n1 = _complete(page, srv.url, "p1", r1, st, stop_after=3)
        assert n1 == 3
        con = sqlite3.connect(folder / "answers.sqlite")
        assert con.execute("SELECT COUNT(DISTINCT trial) FROM answers").fetchone()[0] == 3
        con.close()
        assert _complete(page, srv.url, "p1", r1, st) == len(st["trials"]) - 3
        assert _complete(page, srv.url, "p2", r2, st) == len(st["trials"])
        _complete(page, srv.url, "p3", r3, st)
        page.goto(srv.url)
        page.fill("#pid", "p4")
        page.click("#begin")
        page.wait_for_selector("#trial:not([hidden])")
        if os.environ.get("V2M_SCREENSHOTS"):  # the docs' screenshot (see docs/app.md)
            page.screenshot(path=str(Path(os.environ["V2M_SCREENSHOTS"]) / "study.png"))
        b.close()
    # malformed answers are refused with a reason and store nothing
    import urllib.error
    import urllib.request

    t0 = st["trials"][0]
    for body in (b"[1]", json.dumps({"participant": "p9", "trial": t0["id"],
                                     "answers": {"quality": "7"}}).encode()):  # fmt: skip
        req = urllib.request.Request(srv.url + "/api/answer", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req)
        assert exc.value.code == 400
    rep = report_study(folder)
    assert "p9" not in rep["participants"]["included"]
    assert [e["participant"] for e in rep["participants"]["excluded"]] == ["p3"]
    assert rep["participants"]["included"] == ["p1", "p2"]
    for q in st["questions"]:
        a, bb = rep["mos"]["sysA"][q], rep["mos"]["sysB"][q]
        assert a["n"] == 4 and a["mean"] == pytest.approx(4.5) and bb["mean"] == pytest.approx(2.5)
        from scipy import stats

        half = stats.t.ppf(0.975, 3) * np.std([5, 5, 4, 4], ddof=1) / 2
        assert a["ci_high"] - a["mean"] == pytest.approx(half)
        (w,) = rep["wilcoxon"][q]
        assert w["n"] == 4 and w["median_diff"] == pytest.approx(2.0)
        assert w["p"] == pytest.approx(stats.wilcoxon([3, 3, 1, 1]).pvalue)
    (ab,) = rep["ab"]
    assert ab["n"] == 4 and ab["a_wins"] == 4 and ab["p"] == pytest.approx(0.125)
    md = (folder / "report.md").read_text()
    assert "| sysA | 4.50 ±" in md and "excluded p3" in md
    rows = (folder / "report.csv").read_text().splitlines()
    assert rows[0] == "system,question,n,mean,sd,ci_low,ci_high" and len(rows) == 9
    assert json.loads((folder / "report.json").read_text())["ab"][0]["a_wins"] == 4
