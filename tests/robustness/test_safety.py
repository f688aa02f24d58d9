"""Safety by inspection (an AST scan of vae_core/ and dashboard/) and by isolation tests.

Scan: no pickle, torch.load only with weights_only=True, np.load only with allow_pickle=False, no
unsafe_allow_html/st.html with anything but an allow-listed constant, no module-level mutable state in the
dashboard's library modules (only the st.cache_resource store and job slots are shared), no filesystem call
in the dashboard built from anything but the app's own location, nothing extracted from a zip.
Isolation: two sessions never see each other's data or runs; run ids are random and never in a URL.
"""
from __future__ import annotations

import ast
import builtins
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from app_session import open_app, train_tiny, workspace
from filemakers import bundled_digits, npz_bytes

from dashboard.workspaces import WorkspaceStore, browser_key
from vae_core import data as D
from vae_core.run import Run
from vae_core.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("vae_core", "dashboard") for p in (ROOT / folder).rglob("*.py"))
# Page scripts run afresh for every visitor and every rerun: their top-level names are per-run locals.
SCRIPTS = {ROOT / "dashboard" / "streamlit_app.py", *(ROOT / "dashboard" / "app_pages").glob("*.py")}
LIBRARY = [p for p in SOURCES if p.parts[len(ROOT.parts)] == "dashboard" and p not in SCRIPTS]

# HTML that reaches the page unescaped: only these constants, each with its reason.
HTML_ALLOWED = {("dashboard/components/presenter.py", "CSS"): "presenter mode's stylesheet, a string constant",
                ("dashboard/components/presenter.py", "LAYOUT_CSS"):
                    "the layout stylesheet (wrap, not cut), a constant"}
# The only server-wide objects: neither hands one visitor's data to another.
SHARED_ALLOWED = {"workspace_store": "cache_resource: the store of workspaces, keyed by per-browser secrets",
                  "job_slots": "cache_resource: a counter and a queue of job ids, no data",
                  "bundled": "cache_resource: the bundled data sets by name, read-only, never user data",
                  "bundled_with": "cache_resource: bundled recordings cut with other windows, read-only",
                  "variant": "cache_resource: a lesson's variant of a bundled set (seeded spikes), read-only"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def calls(tree: ast.AST):
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call))


def dotted(node: ast.AST) -> str:
    """'np.load' for np.load, 'st.html' for st.html, '' for anything not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def keyword(call: ast.Call, name: str):
    found = next((k for k in call.keywords if k.arg == name), None)
    return None if found is None else (found.value.value if isinstance(found.value, ast.Constant) else "<expr>")


def test_the_scan_sees_the_sources():
    assert len(SOURCES) > 40 and len(LIBRARY) > 10
    assert ROOT / "vae_core" / "formats" / "npz.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_no_pickle_and_no_unsafe_loading(path):
    tree = parsed(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_MODULES, ast.dump(node)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in FORBIDDEN_MODULES, node.module
    for call in calls(tree):
        name = dotted(call.func)
        if name == "torch.load":
            assert keyword(call, "weights_only") is True, \
                f"{rel(path)}:{call.lineno} torch.load without weights_only=True"
        if name in ("np.load", "numpy.load"):
            assert keyword(call, "allow_pickle") is False, \
                f"{rel(path)}:{call.lineno} np.load without allow_pickle=False"
        assert name not in ("eval", "exec", "yaml.load", "pd.read_pickle", "torch.jit.load"), \
            f"{rel(path)}:{call.lineno} {name}"
        if isinstance(call.func, ast.Attribute):
            assert call.func.attr not in ("extract", "extractall"), \
                f"{rel(path)}:{call.lineno}: nothing is unpacked to disk"


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_html_reaches_the_page_only_from_allowed_constants(path):
    for call in calls(parsed(path)):
        unsafe = keyword(call, "unsafe_allow_html") not in (None, False)
        raw = dotted(call.func) in ("st.html", "components.html", "st.components.v1.html")
        if not (unsafe or raw):
            continue
        argument = call.args[0] if call.args else None
        assert isinstance(argument, ast.Name) and (rel(path), argument.id) in HTML_ALLOWED, (
            f"{rel(path)}:{call.lineno}: raw HTML from {ast.unparse(argument) if argument else 'nothing'}; "
            "escape user text, or add a constant to HTML_ALLOWED with its reason")


def _mutable(value: ast.AST) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    return isinstance(value, ast.Call) and dotted(value.func).split(".")[-1] in (
        "dict", "list", "set", "deque", "defaultdict", "OrderedDict", "Counter", "WeakValueDictionary", "WeakSet")


@pytest.mark.parametrize("path", LIBRARY, ids=rel)
def test_no_module_level_state_that_could_hold_user_data(path):
    """Module-level containers are UPPER_CASE constants that no function writes into; no `global`."""
    tree = parsed(path)
    containers = set()
    for node in tree.body + [n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body]:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _mutable(node.value):
            names = [t.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                     if isinstance(t, ast.Name)]
            # constants by name (UPPER_CASE, set at import); never written below, so no visitor's data gets in
            assert all(n.lstrip("_").isupper() for n in names), f"{rel(path)}:{node.lineno}: module-level state {names}"
            containers.update(names)
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Global), f"{rel(path)}:{node.lineno}: `global` state"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and dotted(node.func.value) in containers):
            assert node.func.attr not in ("append", "extend", "update", "add", "setdefault", "insert", "pop",
                                          "clear", "remove", "appendleft"), \
                f"{rel(path)}:{node.lineno} mutates a constant"
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(target, ast.Subscript):
                    assert dotted(target.value) not in containers, f"{rel(path)}:{node.lineno} writes into a constant"


def test_only_the_allowed_functions_are_shared_between_visitors():
    found = {}
    for path in SOURCES:
        for node in ast.walk(parsed(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    name = dotted(deco.func if isinstance(deco, ast.Call) else deco)
                    if name.split(".")[-1] in ("cache_resource", "cache_data", "lru_cache", "cache"):
                        found[node.name] = rel(path)
    shared = {name for name, where in found.items() if where.startswith("dashboard/")}
    assert shared == set(SHARED_ALLOWED), shared


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parts[len(ROOT.parts)] == "dashboard"], ids=rel)
def test_the_dashboard_builds_no_path_from_user_input(path):
    """Filesystem calls in the dashboard may only use constants and the app's own location."""
    fs_calls = ("open", "Path", "os.path.join", "os.open", "os.remove", "os.makedirs", "shutil", "tempfile")
    fs_methods = ("write_bytes", "write_text", "read_bytes", "read_text", "mkdir", "unlink", "rename", "open")
    for call in calls(parsed(path)):
        name = dotted(call.func)
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        is_fs = name in fs_calls or name.split(".")[0] in ("shutil", "tempfile") or (
            method in fs_methods and "Path" in ast.unparse(call.func.value))
        if not is_fs:
            continue
        names = {n.id for a in [*call.args, *(k.value for k in call.keywords)] for n in ast.walk(a)
                 if isinstance(n, ast.Name)}
        assert names <= {"__file__", "Path"}, f"{rel(path)}:{call.lineno}: a path built from {sorted(names)}"


def test_uploads_are_read_in_memory_and_their_names_never_become_paths(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    opened = []
    real_open = builtins.open

    def spy(file, *args, **kw):
        opened.append(str(file))
        return real_open(file, *args, **kw)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    images, labels = bundled_digits(20)
    for name in ("../../etc/evil.npz", "/tmp/evil.npz", "..\\..\\evil.npz", "C:\\evil.npz"):
        data = D.load_upload([(name, npz_bytes(x=images, y=labels))])
        assert data.name == "evil.npz"
    assert not [f for f in opened if "evil" in f], opened
    assert list(tmp_path.iterdir()) == []


# ---- isolation -----------------------------------------------------------------------------------------

def test_two_sessions_never_see_each_others_data_or_runs():
    first, second = open_app(), open_app()
    a, b = workspace(first), workspace(second)
    assert a is not b and a.key != b.key
    train_tiny(first, epochs=1)
    images, labels = bundled_digits(50)
    a.set_data(D.load_upload([("mine.npz", npz_bytes(x=images, y=labels))]), "upload:mine.npz")
    second.switch_page("app_pages/runs.py").run()
    assert workspace(second) is b and b.runs == [] and "No runs yet" in second.info[0].value
    second.switch_page("app_pages/data.py").run()
    assert b.data.name == "mnist" and b.data_source == "bundled:mnist"
    # a link carrying the first visitor's run id or workspace key opens nothing of theirs
    run_id = a.runs[-1].id
    third = open_app()
    third.query_params.update({"run": run_id, "workspace": a.key})
    third.switch_page("app_pages/runs.py").run()
    assert workspace(third).runs == [] and not third.exception
    # and the first visitor's URL never holds their run id or workspace key
    first.switch_page("app_pages/runs.py").run()
    url = "&".join(f"{k}={v}" for k, v in first.query_params.items())
    assert run_id not in url and a.key not in url


def test_run_ids_are_random_and_workspace_keys_come_from_secrets(tmp_path):
    store = WorkspaceStore(RunStore(tmp_path))
    space = store.get("k1")
    assert store.get("k1") is space and store.get("k2") is not space
    assert space.code != store.get("k2").code  # each its own workspace code
    ids = [Run(model=None, train_cfg=None, data_info={}).id for _ in range(30)]
    assert len(set(ids)) == 30 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len({i[:8] for i in ids}) == 30  # no shared prefix or counter
    # the XSRF cookie's token decides the key; another mask of the same token gives the same key
    token, other = os.urandom(32), os.urandom(32)

    def cookie(secret, mask):
        return f"2|{mask.hex()}|{bytes(b ^ mask[i % 4] for i, b in enumerate(secret)).hex()}|1700000000"

    assert (browser_key(cookie(token, b"abcd")) == browser_key(cookie(token, b"wxyz"))
            != browser_key(cookie(other, b"abcd")))
    assert browser_key(None) is None and browser_key("garbage") is None and browser_key("2|zz|yy|1") is None
    assert token.hex() not in browser_key(cookie(token, b"abcd"))


def test_arrays_from_an_upload_are_private_copies():
    """Two visitors uploading the same bytes get separate arrays: one's changes never reach the other."""
    images, labels = bundled_digits(20)
    blob = npz_bytes(x=images, y=labels)
    a, b = D.load_upload([("same.npz", blob)]), D.load_upload([("same.npz", blob)])
    assert not np.shares_memory(a.x, b.x)
