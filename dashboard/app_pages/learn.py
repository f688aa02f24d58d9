"""Learn: short lessons on VAEs. One click sets up real data and settings and trains the lesson's runs in the
background; then the lesson explains what happened with the numbers of those runs."""
from __future__ import annotations

import streamlit as st

from dashboard import links, state
from dashboard.components import explore, lesson_view, live_lesson
from dashboard.components.sidebar import data_line
from dashboard.lessons import LESSONS, lesson_data
from dashboard.lessons.common import Lesson, describe
from dashboard.lessons.runner import LessonRunner, key
from dashboard.lessons.touch import LiveLesson
from vae_core.data import BUNDLED

POLL_SECONDS = 0.5
_URL_SEEN = "learn_url_lesson"  # the ?lesson= value already followed, so the picker can move on from it

ws = state.workspace()
st.title("Learn")
st.caption(f"{len(LESSONS)} short lessons on variational autoencoders. Each one sets up real data and settings with "
           "one click, trains small models while you watch (or while you steer them), then explains what happened "
           "with the numbers of *your* runs. Every lesson has a link of its own to hand out.")


# ---- which lesson: the picker, kept in sync with ?lesson= --------------------------------------------------
wanted, problem = links.lesson(st.query_params.to_dict())
if problem:
    st.warning(f"From the link you opened: {problem}; showing the lesson picked below.", icon=":material/link_off:")
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


def set_up(lesson: Lesson):
    """The lesson's data and its first run's settings, on this workspace and the Train page."""
    data = lesson_data(lesson)
    ws.set_data(data, lesson.source)
    state.apply_settings(lesson.settings(lesson.steps[0], data.kind))
    return data


# ---- the lesson ------------------------------------------------------------------------------------------------
st.header(f"Lesson {number}: {lesson.title}")
st.markdown(lesson.summary)
if isinstance(lesson, LiveLesson):  # one run the class steers while it trains
    live_lesson.show(ws, lesson)
    st.stop()
for i, block in enumerate(lesson.intro):
    lesson_view.draw(block, f"learn_intro_{number}_{i}")

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


@st.fragment(run_every=POLL_SECONDS if running else None)
def live() -> None:
    """Redraws while the lesson trains; one full rerun at the end shows the explanation."""
    current = ws.background.get(key(number))
    if current is None:
        return
    if current.active:
        lesson_view.progress(current.snapshot())
    elif running:
        st.rerun()


live()


if runner is not None and not running:
    lesson_view.results(ws, lesson, runner)
st.caption(f"In use now: {data_line(ws)}. Share this lesson: `learn?lesson={number}` after the app's address.")
