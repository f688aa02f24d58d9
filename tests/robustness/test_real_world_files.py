"""The real-world sensor files of the corpus (make_corpus.real_world_entries) read from disk as the CLI
reads them: each loads with its note and only sensor channels, or is refused with its message."""
from __future__ import annotations

import pytest
from make_corpus import real_world_entries

from vae_core import data as D
from vae_core.dataset import DataError

CASES = {r.name: r for r in real_world_entries()}


def test_every_case_the_issues_name_is_there():
    names = " ".join(CASES)
    for kind in ("decimal_comma", "pandas_index", "duplicated_times", "dst", "text_labels", "xlsx", "changepoint",
                 "index_and_empty", "mixed_offsets", "labels_only"):
        assert kind in names, kind
    assert {r.outcome for r in CASES.values()} == {"loads", "refused"}


@pytest.mark.parametrize("name", list(CASES))
def test_loads_right_or_is_refused_by_name(name, tmp_path):
    case = CASES[name]
    path = tmp_path / name
    path.write_bytes(case.blob)
    if case.outcome == "refused":
        with pytest.raises(DataError) as refused:
            D.load_path(path)
        assert case.expect in str(refused.value) and name in str(refused.value)
        return
    data = D.load_path(path)
    assert any(case.expect in note for note in data.notes), data.notes
    assert data.channels == case.channels and data.x.shape[2] == len(case.channels)
