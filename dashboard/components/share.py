"""Shareable links in the app: read a link's data and settings once, keep the Train page's URL up to date, and
offer the link to copy. The mapping and its checks live in dashboard/links.py."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from vae_core.config import losses_for

from .. import links, state
from ..workspace import Workspace

_SYNCED = "url_synced"  # session_state: the settings part of the query string last applied or written


def _signature(query: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in query.items() if k not in links.OTHER))


def bundled_name(ws: Workspace) -> str | None:
    """The bundled data set in use, or None for an upload (which a link cannot carry)."""
    source = ws.data_source
    return source.split(":", 1)[1] if source.startswith("bundled:") else None


def apply_url(ws: Workspace) -> None:
    """Router, every run: when the URL carries data or settings not seen yet in this session, use them."""
    query = st.query_params.to_dict()
    signature = _signature(query)
    if not signature or signature == st.session_state.get(_SYNCED):
        return
    st.session_state[_SYNCED] = signature
    link = links.parse(query)
    if link.data is not None and bundled_name(ws) != link.data:
        ws.set_data(state.bundled(link.data), f"bundled:{link.data}")
    messages = list(link.messages)
    if not link.empty and ws.data is not None:
        values, notes = links.complete(link, ws.data.kind, losses_for(ws.data.in_unit_interval))
        messages += notes
        state.apply_settings({**values, "kind": ws.data.kind})
        what = f"{ws.data.name} and these settings" if link.data else "these settings"
        st.toast(f"Opened a shared link: the Train page is set up with {what}.", icon=":material/link:")
    for message in messages:
        st.warning(f"From the link you opened: {message}.", icon=":material/link_off:")


def url_for(query: dict[str, str]) -> str:
    """This page's address in the visitor's browser with `query` as its query string (relative when unknown)."""
    tail = urlencode(query)
    base = st.context.url or ""
    if not base:
        return f"?{tail}" if tail else ""
    scheme, netloc, path, _, _ = urlsplit(base)
    return urlunsplit((scheme, netloc, path or "/", tail, ""))


def sync(data) -> None:
    """Train page: write the data choice and settings into the URL, and offer the link to copy."""
    ws = state.workspace()
    name = bundled_name(ws) if ws.data is data else None
    query = links.to_query(name, state.settings(), data.kind)
    current = {k: v for k, v in st.query_params.to_dict().items() if k not in links.OTHER}
    if current != query:
        st.query_params.from_dict(query)
    st.session_state[_SYNCED] = _signature(query)
    with st.popover("Copy link for this exercise", icon=":material/share:", width="stretch",
                    help="A link that opens VAE Explorer with this data and these settings on the Train page."):
        st.code(url_for(query), language=None, wrap_lines=True)
        st.caption("Copy it with the button at its right. Whoever opens it gets the same data and settings; they "
                   "still press Train themselves. The link holds settings only: no runs, no files.")
        if name is None:
            st.caption(f"The data in use, {data.name}, is an upload or a lesson's variant, which a link cannot "
                       "carry: the link keeps your data choice out and sets the settings only.")
