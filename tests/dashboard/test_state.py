"""Server-wide state: bundled data shared once between visitors, read-only so no one can change another's."""
from __future__ import annotations

import numpy as np
import pytest
from app_session import open_app, workspace


def test_every_visitor_shares_one_read_only_copy_of_the_bundled_data():
    a, b = workspace(open_app()), workspace(open_app())
    assert a is not b and a.data is b.data  # one copy of MNIST per server, not one per visitor
    for array in (a.data.x, a.data.y, a.data.split):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a.data.x[0, 0, 0, 0] = 1.0
    assert np.isfinite(b.data.x).all()
