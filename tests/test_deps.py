import sys

import pytest

from v2m import MissingDependencyError
from v2m._deps import require


@pytest.mark.parametrize("module,extra", [("torch", "neural"), ("librosa", "eval")])
def test_missing_optional_dependency_names_the_extra(monkeypatch, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=rf"v2m\[{extra}\]"):
        require(module, purpose="this test")
