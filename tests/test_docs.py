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
