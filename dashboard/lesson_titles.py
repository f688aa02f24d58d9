"""The lessons' numbers and titles, in one place: the lessons use them, and every control links the one that shows it.

(Outside the lessons package, which imports the Train page's controls: no import cycle.)
"""
from __future__ import annotations

TITLES = {1: "What a VAE is", 2: "The β trade-off", 3: "Posterior collapse", 4: "Latent size",
          5: "Choosing the loss for sensor data", 6: "Anomaly detection", 7: "Touch the model",
          8: "The VAE family", 9: "Prior holes and mode coverage", 10: "The rate-distortion curve",
          11: "The classic collapse", 12: "Augmenting a short recording"}


def lesson_link(number: int) -> str:
    """Markdown link to a lesson on the Learn page (relative, so it works under any base URL path)."""
    return f"[Lesson {number}: {TITLES[number]}](learn?lesson={number})"
