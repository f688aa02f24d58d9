"""Presenter mode: large type and a clean screen for a projector. A sidebar toggle (kept in session_state, so it
survives page switches) or `?presenter=1` in a link switches it on.

The stylesheet is a constant: nothing a visitor types ever reaches it.
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from .. import links

KEY = "presenter_mode"  # the toggle's key: True while presenter mode is on
_URL_SEEN = "presenter_url_seen"  # the ?presenter= value already applied, so the toggle can override it
FONT_SIZE = 18  # plotly font size for charts drawn in presenter mode (default 12)
MAX_COLUMNS = 2  # charts side by side in presenter mode: larger type needs wider charts

# Always on: Streamlit cuts a label, metric, button or tag that does not fit its box with "…" (a metric read
# "48,000 / 6,00…"); here they wrap between words instead.
LAYOUT_CSS = """<style>
/* VAE Explorer layout: text wraps between words instead of ending in an ellipsis */
.stMarkdownEllipsis, .stMarkdownEllipsis p, [data-testid="stMetricValue"] div,
[data-testid="stPageLink-NavLink"] span, [data-testid="stSidebarNavLink"] span {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.25rem, 2.4vw, 2.25rem); line-height: 1.2; }
/* pills wrap onto more lines instead of scrolling sideways out of sight in a narrow column */
[data-testid="stButtonGroup"] div:has(> button) { flex-wrap: wrap; overflow-x: visible; }
</style>"""
CSS = """<style>
/* VAE Explorer presenter mode: large type, no toolbar, full width */
html { font-size: 20px; }
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"] { display: none !important; }
[data-testid="stHeader"] { background: transparent; }
.stMainBlockContainer, [data-testid="stMainBlockContainer"] { max-width: 100%; padding-top: 2rem;
  padding-left: 2.5rem; padding-right: 2.5rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; line-height: 1.55; }
[data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
h1 { font-size: 2.8rem !important; }
h2 { font-size: 2.1rem !important; }
h3 { font-size: 1.6rem !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.4rem, 2.6vw, 2.4rem); }
.katex { font-size: 1.5em !important; }
/* a narrower screen (1024 px) keeps the large type but not so large that two-column pages run out of room */
@media (max-width: 1279px) { html { font-size: 17px; } .katex { font-size: 1.2em !important; } }
</style>"""


def init_from_url() -> None:
    """Apply `?presenter=1|0` once per value seen, so the sidebar toggle can still switch it afterwards."""
    wanted = links.presenter(st.query_params.to_dict())
    if wanted is not None and st.session_state.get(_URL_SEEN) != wanted:
        st.session_state[_URL_SEEN] = wanted
        st.session_state[KEY] = wanted


def enabled() -> bool:
    return bool(st.session_state.get(KEY, False))


def inject() -> None:
    """The constant stylesheets: the layout one always, the presenter one when presenter mode is on (call early in
    every run)."""
    st.html(LAYOUT_CSS)
    if enabled():
        st.html(CSS)


def toggle() -> None:
    """The switch, for the sidebar."""
    st.toggle("Presenter mode", key=KEY,
              help="Large type and no toolbar, for a projector. Stays on when you change pages; a link with "
                   "`?presenter=1` opens the app this way.")


def cells(n: int, **kw) -> list:
    """n columns on one line, or in presenter mode lines of at most MAX_COLUMNS (its large type needs the room):
    controls and metrics side by side that would otherwise wrap their labels mid-word."""
    per_line = min(n, MAX_COLUMNS) if enabled() else n
    return [col for start in range(0, n, per_line) for col in st.columns(min(per_line, n - start), **kw)]


def style(fig: go.Figure) -> go.Figure:
    """Larger chart fonts in presenter mode (a copy; the figure passed in is left alone)."""
    if not enabled():
        return fig
    fig = go.Figure(fig)
    fig.update_layout(font=dict(size=FONT_SIZE), title_font=dict(size=FONT_SIZE + 4))
    return fig
