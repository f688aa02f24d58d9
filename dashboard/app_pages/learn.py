"""Learn: six short lessons on VAEs. One click sets up real data and settings and trains the lesson's runs in the
background; then the lesson explains what happened with the numbers of those runs."""
from __future__ import annotations

import streamlit as st

from dashboard import links, report, state
from dashboard.components import charts, explore, presenter
from dashboard.components.sidebar import data_line
from dashboard.lessons import LESSONS
from dashboard.lessons import common as blocks
from dashboard.lessons.common import Lesson, describe
from dashboard.lessons.runner import LessonRunner, LessonSnapshot, key
from vae_core.data import BUNDLED
from vae_core.run import Run

POLL_SECONDS = 0.5
_URL_SEEN = "learn_url_lesson"  # the ?lesson= value already followed, so the picker can move on from it

ws = state.workspace()
st.title("Learn")
st.caption("Six short lessons on variational autoencoders. Each one sets up real data and settings with one click, "
           "trains a few small models while you watch, then explains what happened with the numbers of *your* "
           "runs. Every lesson has a link of its own to hand out.")


# ---- which lesson: the picker, kept in sync with ?lesson= --------------------------------------------------
wanted, problem = links.lesson(st.query_params.to_dict())
if problem:
    st.warning(f"The link asks for {problem}; showing the lesson picked below.", icon=":material/link_off:")
picker = explore.keep("learn_lesson", 1)
if wanted is not None and st.session_state.get(_URL_SEEN) != wanted:
    st.session_state[picker] = wanted
number = st.segmented_control("Lesson", list(LESSONS), key=picker, required=True, label_visibility="collapsed",
                              format_func=lambda n: f"{n} · {LESSONS[n].title}") or 1
st.session_state[_URL_SEEN] = number
if st.query_params.get("lesson") != str(number):
    st.query_params["lesson"] = str(number)
lesson: Lesson = LESSONS[number]
runner: LessonRunner | None = ws.background.get(key(number))
busy_lesson = next((k[1] for k, task in ws.background.items()
                    if isinstance(k, tuple) and k[:1] == ("lesson",) and task.active), None)
own_job = ws.job is not None and ws.job.active and busy_lesson is None
running = runner is not None and runner.active


def lesson_data(lesson: Lesson):
    data = state.bundled(lesson.data)
    return lesson.prepare(data) if lesson.prepare else data


def set_up(lesson: Lesson):
    """The lesson's data and its first run's settings, on this workspace and the Train page."""
    data = lesson_data(lesson)
    source = f"bundled:{lesson.data}" if lesson.prepare is None else f"lesson:{lesson.number}"
    ws.set_data(data, source)
    state.apply_settings(lesson.settings(lesson.steps[0], data.kind))
    return data


def draw(block, name: str) -> None:
    if isinstance(block, blocks.Text):
        {"markdown": st.markdown, "info": st.info, "success": st.success, "warning": st.warning,
         "error": st.error}[block.kind](block.body)
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
            for i, (col, item) in enumerate(zip(st.columns(per_line, gap="medium"), line), start):
                with col:
                    draw(item, f"{name}_{i}")


# ---- the lesson ------------------------------------------------------------------------------------------------
st.header(f"Lesson {number}: {lesson.title}")
st.markdown(lesson.summary)
for i, block in enumerate(lesson.intro):
    draw(block, f"learn_intro_{number}_{i}")

left, right = st.columns([3, 2], gap="large")
with left:
    st.markdown("**What to look for**\n" + "\n".join(f"- {line}" for line in lesson.look_for))
with right:
    data_title = BUNDLED[lesson.data].split(":")[0]
    plans = lesson.plans(lesson_data(lesson))
    st.markdown(f"**The runs** ({data_title}; {lesson.minutes} on a laptop)\n" +
                "\n".join(f"{i}. **{step.name}**: {describe(m, t)}" for i, (step, m, t) in enumerate(plans, 1)))

b = st.columns(3)
why_not = ("Another lesson is running; wait for it or stop it." if busy_lesson not in (None, number) else
           "Your own training job is running (Train page); wait for it or stop it." if own_job else None)
if b[0].button(f"Run lesson {number}", type="primary", key="learn_run", disabled=running or why_not is not None,
               width="stretch", icon=":material/play_arrow:",
               help=why_not or "Loads the data, sets up the settings and trains this lesson's runs one after "
                               "another in the background. The page stays usable."):
    data = set_up(lesson)
    old = ws.background.pop(key(number), None)
    if old is not None:
        old.stop()
    ws.background[key(number)] = LessonRunner(number, data, lesson.plans(data), ws, state.job_slots(),
                                              lesson.after).start()
    st.rerun()
if b[1].button("Only set up the Train page", key="learn_setup", disabled=running, width="stretch",
               icon=":material/tune:",
               help="Loads the lesson's data and its first run's settings on the Train page; you press Train."):
    set_up(lesson)
    state.flash(f"Lesson {number} is set up: {lesson.steps[0].name}. Press **Train** when you are ready.")
    st.switch_page("app_pages/train.py")
if b[2].button("Stop", key="learn_stop", disabled=not running, width="stretch", icon=":material/stop:",
               help="Stops the lesson. The run in training keeps what it learned (as a stopped run)."):
    runner.stop()
    st.rerun()
if why_not and not running:
    st.caption(why_not)


def progress(snap: LessonSnapshot) -> None:
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


@st.fragment(run_every=POLL_SECONDS if running else None)
def live() -> None:
    """Redraws while the lesson trains; one full rerun at the end shows the explanation."""
    current = ws.background.get(key(number))
    if current is None:
        return
    if current.active:
        progress(current.snapshot())
    elif running:
        st.rerun()


live()


def results(runner: LessonRunner) -> None:
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
                                                    zip(runs, snap.names)) +
                (" are ordinary runs now: compare them on the Runs page, explore one" if len(runs) > 1 else
                 " is an ordinary run now: compare it with your own on the Runs page, explore it") +
                " on the other pages (pick it in the sidebar), change a setting on the Train page and train again, or "
                "download a report.")
    cols = st.columns(len(runs) + 1)
    cols[0].page_link("app_pages/runs.py", label="Compare on the Runs page", icon=":material/table_chart:")
    for col, r in zip(cols[1:], runs):
        col.download_button(f"Report: run {r.number} (HTML)", data=lambda r=r: report.build(r),
                            file_name=report.file_name(r), mime="text/html", on_click="ignore",
                            key=f"learn_report_{r.id[:8]}", icon=":material/download:",
                            help="One HTML file with this run's settings, curves, latent map, reconstructions, "
                                 "traversals and diagnosis; it opens in any browser, offline.")


if runner is not None and not running:
    results(runner)
st.caption(f"In use now: {data_line(ws)}. Share this lesson: `learn?lesson={number}` after the app's address.")
