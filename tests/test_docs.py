import json
import re
from pathlib import Path

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
