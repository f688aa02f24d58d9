"""Loading allocates with ordinary 4 KiB pages: numpy's transparent-hugepage advice costs more than it saves here.

numpy advises the kernel to back every array over 4 MiB with 2 MiB pages. In a VM that hands free memory back to
its host (free page reporting), each fresh 2 MiB page is faulted in from the host: on the 2-core machine of the
README's benchmarks that made the 512 MB of windows of a 2,000,000-row recording cost ~6 s of system time, against
~0.3 s with 4 KiB pages. A loader's arrays are written once and read sequentially, so large pages gain little.
The advice is a process-wide switch in numpy, so it is turned off while any load runs and restored after the last.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

try:  # numpy >= 2 (numpy 1.x: numpy.core); without it loading just keeps numpy's default
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - depends on the numpy version
    try:
        from numpy.core.multiarray import _set_madvise_hugepage
    except ImportError:
        _set_madvise_hugepage = None

_lock = threading.Lock()
_loads = 0  # loads running now (the dashboard loads in several threads)
_saved = False  # numpy's setting before the first of them


@contextmanager
def small_pages() -> Iterator[None]:
    """Within this block numpy allocates without the hugepage advice; the setting is restored after the last load."""
    global _loads, _saved
    if _set_madvise_hugepage is None:
        yield
        return
    with _lock:
        if _loads == 0:
            _saved = _set_madvise_hugepage(False)
        _loads += 1
    try:
        yield
    finally:
        with _lock:
            _loads -= 1
            if _loads == 0:
                _set_madvise_hugepage(_saved)
