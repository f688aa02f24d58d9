"""How the Learn page draws a lesson: its blocks, the progress of its runs, and the explanation afterwards."""
from __future__ import annotations

import streamlit as st

from vae_core.run import Run

from .. import report
from ..lessons import common as blocks
from ..lessons.common import Lesson
from ..lessons.runner import LessonRunner, LessonSnapshot
from ..workspace import Workspace
from . import charts, presenter


def draw(block: blocks.Block, name: str) -> None:
    """One block of a lesson (text, plot, picture, formula, diagram, or a row of them)."""
    if isinstance(block, blocks.Text):
        {"markdown": st.markdown, "caption": st.caption, "info": st.info, "success": st.success,
         "warning": st.warning, "error": st.error}[block.kind](block.body)
    elif isinstance(block, blocks.Plot):
        st.plotly_chart(presenter.style(block.fig), key=name, config=charts.PNG_CONFIG)
        if block.caption:
            st.caption(block.caption)
    elif isinstance(block, blocks.Picture):
        st.image(block.image, caption=block.caption or None, width="stretch")
    elif isinstance(block, blocks.Latex):
        st.latex(block.expression)
    elif isinstance(block, blocks.Graph):
        st.graphviz_chart(block.dot)
    elif isinstance(block, blocks.Row):
        per_line = min(len(block.items), presenter.MAX_COLUMNS if presenter.enabled() else len(block.items))
        for start in range(0, len(block.items), per_line):
            line = block.items[start:start + per_line]
            for i, (col, item) in enumerate(zip(st.columns(per_line, gap="medium"), line, strict=False), start):
                with col:
                    draw(item, f"{name}_{i}")


def progress(snap: LessonSnapshot) -> None:
    """Which run of the lesson trains, how far, and its live curves."""
    total = snap.total
    if snap.waiting_for_own_job:
        st.info("Waiting for your own training job to finish; the lesson goes on by itself.",
                icon=":material/hourglass:")
        return
    if snap.analysing or snap.index >= total:
        st.info("Every run is trained; computing the maps for the explanation…", icon=":material/hourglass:")
        return
    name = snap.names[snap.index]
    job = snap.job
    if job is not None and job.status == "queued":
        st.info(f"Run {snap.index + 1} of {total} ({name}) waits for a free training slot: number "
                f"{job.queue_position or 1} in the server's queue. It starts by itself.", icon=":material/hourglass:")
        return
    steps = [e for e in job.events if e.kind == "step"] if job is not None else []
    done = steps[-1].step / max(steps[-1].total_steps, 1) if steps else 0.0
    where = f"epoch {steps[-1].epoch} of {snap.epochs}" if steps else "starting"
    if job is not None and job.status == "evaluating":
        where = "evaluating on the test part"
    st.progress(min(1.0, (snap.index + done) / total),
                text=f"Run {snap.index + 1} of {total}: **{name}** · {where}")
    if job is not None and steps:
        st.plotly_chart(presenter.style(charts.loss_curves(job.events, f"Run {snap.index + 1} of {total}: {name}, "
                                                                       "live (nats per sample)")),
                        key="learn_live", config=charts.PNG_CONFIG)


def results(ws: Workspace, lesson: Lesson, runner: LessonRunner) -> None:
    """The lesson's figures and story, told with the numbers of the runs it trained."""
    number = lesson.number
    snap = runner.snapshot()
    runs: list[Run | None] = [ws.run(i) for i in snap.run_ids]
    if snap.status == "failed":
        st.error(f"The lesson could not finish: {snap.error}", icon=":material/error:")
        return
    if snap.status == "stopped" or len(runs) < snap.total:
        st.info(f"You stopped the lesson after {len(runs)} of {snap.total} runs. They are on the Runs page; run the "
                "lesson again for the explanation.", icon=":material/info:")
        return
    if any(r is None for r in runs):
        st.info("A run of this lesson has been deleted since. Run the lesson again for the explanation.",
                icon=":material/info:")
        return
    st.subheader("What you got")
    for i, block in enumerate(lesson.figures(runs)):
        draw(block, f"learn_fig_{number}_{i}")
    st.subheader("What happened")
    for i, block in enumerate(lesson.story(runs)):
        draw(block, f"learn_story_{number}_{i}")
    st.markdown("**Take it further**: " + ", ".join(f"run {r.number} ({name})" for r, name in
                                                    zip(runs, snap.names, strict=True)) +
                (" are ordinary runs now: compare them on the Runs page, explore one" if len(runs) > 1 else
                 " is an ordinary run now: compare it with your own on the Runs page, explore it") +
                " on the other pages (pick it in the sidebar), change a setting on the Train page and train again, or "
                "download a report.")
    cols = st.columns(len(runs) + 1)
    cols[0].page_link("app_pages/runs.py", label="Compare on the Runs page", icon=":material/table_chart:")
    for col, r in zip(cols[1:], runs, strict=True):
        col.download_button(f"Report: run {r.number} (HTML)", data=lambda r=r: report.build(r),
                            file_name=report.file_name(r), mime="text/html", on_click="ignore",
                            key=f"learn_report_{r.id[:8]}", icon=":material/download:",
                            help="One HTML file with this run's settings, curves, latent map, reconstructions, "
                                 "traversals and diagnosis; it opens in any browser, offline.")
