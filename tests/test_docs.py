import json
import re
from pathlib import Path

import pytest

from v2m.composition import compose
from v2m.cuesheet import CueSheet

DOCS = Path(__file__).resolve().parent.parent / "docs" / "formats.md"


def test_minimal_cue_sheet_in_the_docs_composes():
    block = re.search(r"```json\n(.*?)```", DOCS.read_text(), re.S).group(1)
    cue = CueSheet.from_dict(json.loads(block))
    score = compose(cue)
    assert score.roles and cue.duration_s == 8.0


ROOT = Path(__file__).resolve().parent.parent


def _blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_readme_setup_is_what_ci_runs():
    """The README's developer set-up is two commands, and .ci/run runs exactly them (CI
    runs as root without sudo: scripts/setup picks)."""
    readme = (ROOT / "README.md").read_text()
    setup = next(b for b in _blocks(readme) if "scripts/setup" in b)
    cmds = [line.split("#")[0].strip() for line in setup.splitlines() if line.strip()]
    assert cmds == ["bash scripts/setup", "python -m pytest -q"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "bash scripts/setup" in ci and ci[-1] == "python -m pytest -q"
    script = (ROOT / "scripts" / "setup").read_text()
    assert 'if [ "$(id -u)" -eq 0 ]; then' in script and 'SUDO="sudo"' in script


def test_readme_examples_parse_with_the_cli():
    """Every `v2m ...` line of the README's examples is accepted by the current parser."""
    import shlex

    from v2m._cli import build_parser

    parser = build_parser()
    readme = (ROOT / "README.md").read_text()
    n = 0
    for block in _blocks(readme):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if not line.startswith("v2m "):
                continue
            parser.parse_args(shlex.split(line)[1:])
            n += 1
    assert n >= 6


def test_readme_is_short_and_has_no_diary():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 15_000
    assert not re.search(r"\b(session|tried and not kept|yesterday)\b", readme, re.I)


@pytest.mark.parametrize("name", ["rhythm", "embedding", "symbolic", "structure"])
def test_every_public_metric_is_documented_with_an_example_that_runs(name):
    """mir_eval's manner: each public metric says its parameters and returns (with units)
    and carries an example, and the examples give what they say."""
    import doctest
    import importlib
    import inspect

    mod = importlib.import_module(f"v2m.metrics.{name}")
    for fname in mod.__all__:
        obj = getattr(mod, fname)
        if not inspect.isfunction(obj) or fname.startswith(("notes_from", "ticks_to", "check_")):
            continue
        doc = inspect.getdoc(obj) or ""
        if fname in ("chroma_features", "self_similarity", "fitness_scape"):
            continue  # structure's building blocks: documented, not metrics
        assert "Parameters" in doc and ("Returns" in doc or "Raises" in doc), fname
        assert ">>>" in doc, f"{name}.{fname} has no example"
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
