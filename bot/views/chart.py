"""The digest's chart: open problem invoices (bars) and the dollars they hold (line) over the last days,
as a PNG drawn with matplotlib's Agg backend (no display needed). Sized for Slack's preview: wide,
large type, two series told apart by colour and by axis labels. The series drawn is written into the
PNG's text chunk ``qbsync:series`` (JSON), so what a chart shows can be checked without reading pixels.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

SERIES_KEY = "qbsync:series"
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 150  # 1200 × 600 px; Slack previews at ~360 px wide and scales down
BARS, LINE = "#d1495b", "#2e4057"


def chart_png(points: Sequence[Any], title: str = "Open problem invoices, last 14 days") -> bytes:
    """``points``: objects with ``day`` (date), ``open`` (int) and ``amount`` (Decimal), oldest first."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    days = [p.day for p in points]
    counts = [int(p.open) for p in points]
    dollars = [float(Decimal(p.amount)) for p in points]
    labels = [f"{d:%b} {d.day}" for d in days]
    x = list(range(len(points)))

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)  # no pyplot: no global state, thread-safe
    axes = figure.add_subplot()
    axes.bar(x, counts, color=BARS, width=0.65, label="Open problems")
    axes.set_ylabel("Open problems", color=BARS, fontsize=14)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_ylim(0, max(counts + [1]) * 1.25)
    axes.tick_params(axis="y", colors=BARS, labelsize=13)
    step = max(1, -(-len(x) // 5))  # five dates at most: legible when Slack shrinks the image
    ticks = x[::-1][::step][::-1]  # always label today
    axes.set_xticks(ticks, [labels[i] for i in ticks], fontsize=13)
    axes.spines[["top"]].set_visible(False)
    if counts:
        axes.annotate(
            str(counts[-1]), (x[-1], counts[-1]), ha="center", va="bottom", fontsize=15, fontweight="bold"
        )

    money_axes = axes.twinx()
    money_axes.plot(x, dollars, color=LINE, linewidth=2.5, marker="o", markersize=4, label="Dollars held up")
    money_axes.set_ylim(0, max(dollars + [100.0]) * 1.25)
    money_axes.set_ylabel("Dollars held up", color=LINE, fontsize=14)
    money_axes.yaxis.set_major_formatter(FuncFormatter(_dollars))
    money_axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    money_axes.tick_params(axis="y", colors=LINE, labelsize=13)
    money_axes.spines[["top"]].set_visible(False)

    axes.set_title(title, fontsize=17, loc="left", pad=10)
    figure.tight_layout()
    series = [{"day": p.day.isoformat(), "open": int(p.open), "amount": str(p.amount)} for p in points]
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={SERIES_KEY: json.dumps(series), "Software": "qbsync"})
    return out.getvalue()


def _dollars(value: float, _position: object) -> str:
    if value >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"${value / 1000:.0f}k"
    if value >= 1000:
        return f"${value / 1000:.1f}k".replace(".0k", "k")
    return f"${value:.0f}"
