"""The terminal client's compact race analysis (`race_analysis`, protocol/REFERENCE.md
"Analysis of a race"): a sparkline of WPM per second, consistency, errors and time lost
to corrections, the mistyped words with what was typed, the slowest words. Pure:
an analysis in, prompt_toolkit formatted text out."""

from __future__ import annotations

SPARKS = "▁▂▃▄▅▆▇█"
WORDS_SHOWN = 5


def sparkline(values: list[float]) -> str:
    top = max(values, default=0) or 1
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))]
                   for v in values)


def summary(analysis: dict, shown) -> list[tuple[str, str]]:
    """Four short lines; `shown` makes the server's text safe for the terminal."""
    seconds = analysis.get("seconds") or []
    errors = sum(s.get("errors", 0) for s in seconds)
    wpms = [s.get("wpm", 0) for s in seconds]
    out = [("class:title", "Your race: "),
           ("", f"consistency {analysis.get('consistency', 0):.1f} % · {errors} wrong "
                f"key{'' if errors == 1 else 's'} · "
                f"{analysis.get('correction_ms', 0) / 1000:.2f} s lost to corrections\n"),
           ("class:hint", "wpm/s "), ("class:bar.mine", sparkline(wpms)),
           ("class:hint", f" (peak {max(wpms, default=0):.0f})\n")]
    mistakes = analysis.get("mistakes") or []
    if mistakes:
        out += [("class:hint", "mistyped "), ("", ", ".join(
            f"{shown(m.get('word', ''))} ({shown(m.get('typed', ''))})"
            for m in mistakes[:WORDS_SHOWN]) + (" …" if len(mistakes) > WORDS_SHOWN else "")
            + "\n")]
    slowest = analysis.get("slowest_words") or []
    if slowest:
        out += [("class:hint", "slowest  "), ("", ", ".join(
            f"{shown(w.get('word', ''))} {w.get('wpm', 0):.0f}" for w in slowest[:WORDS_SHOWN])
            + "\n")]
    return out
