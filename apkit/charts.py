"""Charts for the administration and the coordinator, drawn with matplotlib.

Every function takes a DataFrame from :mod:`apkit.reports` or :mod:`apkit.stats`
(charts never read the database) and returns a :class:`matplotlib.figure.Figure`
built directly, without pyplot. So no figure is registered with a GUI manager,
none is left open, and a dropped figure is freed like any object. PNG and SVG come
out of Agg and matplotlib's SVG writer, whatever backend pyplot would pick.

Colours are the Okabe-Ito palette, readable with any common colour-vision
deficiency, and each series also has its own hatching so that the chart still
reads when printed in grey.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

log = logging.getLogger(__name__)

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
CATEGORY_STYLES = {
    "soutien": ("Soutien", OKABE_ITO["vermillion"], "//"),
    "approfondissement": ("Approfondissement", OKABE_ITO["blue"], ""),
    "orientation": ("Orientation", OKABE_ITO["green"], ".."),
    "projet": ("Projet", OKABE_ITO["orange"], "xx"),
}
OUTCOME_STYLES = {
    "Vœu 1": (OKABE_ITO["blue"], ""),
    "Vœu 2": (OKABE_ITO["sky_blue"], ".."),
    "Vœu 3 ou suivant": (OKABE_ITO["yellow"], "//"),
    "Hors vœux": (OKABE_ITO["orange"], "xx"),
    "Non inscrit": (OKABE_ITO["vermillion"], "\\\\"),
}
SERIES_STYLES = [
    (OKABE_ITO["blue"], ""),
    (OKABE_ITO["orange"], "//"),
    (OKABE_ITO["green"], ".."),
    (OKABE_ITO["purple"], "xx"),
]
UNPLACED_COLOUR = "#FFFFFF"
CLOSED_COLOUR = "#BBBBBB"
LABEL_WIDTH = 42
SAVE_FORMATS = ("png", "svg")


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure, figure.add_subplot()


def _short(text: str, width: int = LABEL_WIDTH) -> str:
    return textwrap.shorten(str(text), width=width, placeholder="…")


def _percent(value: float, _position: object = None) -> str:
    # French typography: a decimal comma and a space before the percent sign.
    percent = value * 100
    if 0 < percent < 10 and percent != round(percent):
        return f"{percent:.1f} %".replace(".", ",")
    return f"{percent:.0f} %"


def activity_label(row: pd.Series) -> str:
    """Return an activity's axis label: ``"A · H1 · Méthodologie"``, shortened."""
    return f"{row['Barrette']} · H{row['Heure']} · {_short(row['Atelier'], 34)}"


def fill_rate_chart(fill: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw each activity's enrolled students against its places.

    Parameters
    ----------
    fill
        A frame of :func:`apkit.stats.fill_rates` (any subset of its rows).

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars, one per activity in the frame's order from the top. The
        outlined bar is the places (``Places``), the filled bar the enrolled
        (``Inscrits``) and a black diamond the minimum size. A closed activity's
        places bar is grey and cross-hatched, labelled « fermé ».
    """
    count = len(fill)
    figure, axes = _figure(9, 2.2 + 0.36 * max(count, 1))
    positions = list(range(count))[::-1]
    closed = fill["Fermé"].astype(bool).tolist()
    x_max = max([*fill["Places"], *fill["Inscrits"], 1]) * 1.12

    places = axes.barh(
        positions,
        fill["Places"],
        height=0.75,
        color="white",
        edgecolor="#444444",
        linewidth=1,
        label="Places",
    )
    for bar, is_closed in zip(places, closed, strict=True):
        if is_closed:
            bar.set_facecolor(CLOSED_COLOUR)
            bar.set_hatch("xx")
    axes.barh(
        positions,
        fill["Inscrits"],
        height=0.45,
        color=OKABE_ITO["blue"],
        edgecolor="black",
        linewidth=0.6,
        label="Inscrits",
    )
    axes.plot(
        fill["Minimum"],
        positions,
        linestyle="none",
        marker="D",
        markersize=7,
        markerfacecolor="black",
        markeredgecolor="white",
        label="Effectif minimum",
    )

    for position, row, is_closed in zip(
        positions, fill.to_dict("records"), closed, strict=True
    ):
        note = "fermé" if is_closed else f"{row['Inscrits']}/{row['Places']}"
        x = row["Places"] + x_max * 0.01
        axes.text(x, position, note, va="center", fontsize=8)

    axes.set_yticks(positions, [activity_label(r) for _, r in fill.iterrows()])
    axes.set_xlabel("Élèves")
    axes.set_xlim(0, x_max)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, _labels = axes.get_legend_handles_labels()
    handles.append(
        Patch(
            facecolor=CLOSED_COLOUR,
            hatch="xx",
            edgecolor="black",
            label="Fermé (effectif minimum non atteint)",
        )
    )
    figure.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    axes.set_title(title or "Remplissage des ateliers")
    return figure


def block_fill_chart(block_fill: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw students, places and enrolled for each block and slot.

    Parameters
    ----------
    block_fill
        The frame of :func:`apkit.stats.block_fill`.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars « Élèves », « Places », « Inscrits » per block and slot,
        labelled with their value.
    """
    labels = [
        f"Barrette {b}\nheure {h}"
        for b, h in zip(block_fill["Barrette"], block_fill["Heure"], strict=True)
    ]
    series = ["Élèves", "Places", "Inscrits"]
    figure, axes = _figure(max(6, 1.6 * len(labels) + 2), 4.8)
    _grouped_bars(axes, labels, [block_fill[s].tolist() for s in series], series)
    axes.set_ylabel("Élèves ou places")
    axes.set_title(title or "Places et inscrits par barrette et par heure")
    figure.legend(loc="outside lower center", ncol=3, fontsize=8)
    return figure


def _grouped_bars(
    axes: Axes, labels: list[str], values: list[list[float]], names: list[str]
) -> None:
    width = 0.8 / max(len(names), 1)
    for index, (series, name) in enumerate(zip(values, names, strict=True)):
        colour, hatch = SERIES_STYLES[index % len(SERIES_STYLES)]
        offsets = [p - 0.4 + width * (index + 0.5) for p in range(len(labels))]
        bars = axes.bar(
            offsets,
            series,
            width=width,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
            label=name,
        )
        # A zero needs no label: the missing bar already says it.
        texts = [f"{v:g}" if v else "" for v in series]
        axes.bar_label(bars, labels=texts, padding=2, fontsize=8)
    axes.set_xticks(range(len(labels)), labels)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(y=0.12)


def demand_chart(fill: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw each activity's first choices against its places.

    Parameters
    ----------
    fill
        A frame of :func:`apkit.stats.fill_rates` (any subset of its rows).

    Returns
    -------
    matplotlib.figure.Figure
        Two horizontal bars per activity, « Premiers vœux » and « Places », in the
        frame's order from the top.
    """
    count = len(fill)
    figure, axes = _figure(9, 1.6 + 0.5 * max(count, 1))
    positions = list(range(count))[::-1]
    for index, (column, offset) in enumerate(
        [("Premiers vœux", 0.2), ("Places", -0.2)]
    ):
        colour, hatch = SERIES_STYLES[index]
        bars = axes.barh(
            [p + offset for p in positions],
            fill[column],
            height=0.4,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
            label=column,
        )
        axes.bar_label(bars, padding=2, fontsize=7)
    axes.set_yticks(positions, [activity_label(r) for _, r in fill.iterrows()])
    axes.set_xlabel("Élèves ou places")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.1)
    figure.legend(loc="outside lower center", ncol=3, fontsize=8)
    axes.set_title(title or "Demande (premiers vœux) et places offertes")
    return figure


def satisfaction_chart(shares: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw the share of student-hours per outcome, one stacked bar per period.

    Parameters
    ----------
    shares
        The frame of :func:`apkit.stats.satisfaction_shares`: index ``Période``,
        one column per outcome, rows summing to 1.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars from 0 to 100 %, the first period at the top, each segment
        labelled with its percentage when it is wide enough.
    """
    periods = [str(p) for p in shares.index]
    figure, axes = _figure(9, 2.2 + 0.8 * max(len(periods), 1))
    positions = list(range(len(periods)))[::-1]
    left = [0.0] * len(periods)
    for outcome in shares.columns:
        colour, hatch = OUTCOME_STYLES.get(outcome, (OKABE_ITO["purple"], "++"))
        values = shares[outcome].astype(float).tolist()
        bars = axes.barh(
            positions,
            values,
            left=left,
            height=0.5,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
            label=outcome,
        )
        labels = [_percent(v) if v >= 0.08 else "" for v in values]
        axes.bar_label(
            bars,
            labels=labels,
            label_type="center",
            fontsize=8,
            bbox={
                "boxstyle": "round,pad=0.15",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.85,
            },
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    # Every share is also written under its bar, since narrow segments have no
    # room for a label inside.
    for position, (_period, row) in zip(positions, shares.iterrows(), strict=True):
        caption = " · ".join(f"{k} : {_percent(float(v))}" for k, v in row.items())
        axes.text(0.005, position - 0.38, caption, va="center", ha="left", fontsize=7.5)
    axes.set_yticks(positions, periods)
    axes.set_ylim(-0.6, len(periods) - 0.6)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(FuncFormatter(_percent))
    axes.set_xlabel("Part des heures d'AP des élèves")
    figure.legend(loc="outside lower center", ncol=5, fontsize=8)
    axes.set_title(title or "Satisfaction des vœux par période")
    return figure


def student_history_chart(history: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw one student's activities, period by period and slot by slot.

    Parameters
    ----------
    history
        The frame of :func:`apkit.reports.student_history_frame`.

    Returns
    -------
    matplotlib.figure.Figure
        A grid: one column per period, one row per slot; each cell is coloured
        and hatched by category and contains the activity's title, or « non
        inscrit » on a white cell.
    """
    periods = list(dict.fromkeys(history["Période"]))
    slots = sorted(set(history["Heure"]))
    figure, axes = _figure(max(6, 2.3 * len(periods) + 1.5), 1.8 + 1.1 * len(slots))
    for row in history.to_dict("records"):
        x = periods.index(row["Période"])
        label, colour, hatch = CATEGORY_STYLES.get(
            row["Catégorie"], ("", UNPLACED_COLOUR, "")
        )
        bar = axes.barh(
            row["Heure"],
            0.94,
            left=x - 0.47,
            height=0.86,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
        )
        bar[0].set_gid(row["Catégorie"] or "non inscrit")
        text = textwrap.fill(_short(row["Atelier"], 40), 18) if row["Atelier"] else ""
        axes.text(
            x,
            row["Heure"],
            text or "non inscrit",
            ha="center",
            va="center",
            fontsize=8,
            bbox={
                "boxstyle": "round,pad=0.2",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.9,
            },
        )
    axes.set_xticks(range(len(periods)), periods)
    axes.set_yticks(slots, [f"Heure {slot}" for slot in slots])
    axes.set_xlim(-0.55, len(periods) - 0.45)
    axes.invert_yaxis()
    handles = [
        Patch(facecolor=c, hatch=h, edgecolor="black", label=label)
        for label, c, h in CATEGORY_STYLES.values()
    ]
    handles.append(
        Patch(facecolor=UNPLACED_COLOUR, edgecolor="black", label="Non inscrit")
    )
    figure.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=8)
    name = " ".join(str(history.attrs.get(k, "")) for k in ("Nom", "Prénom")).strip()
    axes.set_title(title or f"Parcours d'AP : {name}".rstrip(" :"))
    return figure


def unplaced_by_class_chart(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw how many students of each class are unplaced, one bar per slot.

    Parameters
    ----------
    table
        The frame of :func:`apkit.stats.unplaced_by_class`: index ``Classe``, one
        column per slot.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars per class, labelled with their value.
    """
    labels = [str(c) for c in table.index]
    width = 0.4 * len(labels) * max(len(table.columns), 1) + 2
    figure, axes = _figure(min(max(6, width), 12), 4.5)
    values = [table[column].tolist() for column in table.columns]
    _grouped_bars(axes, labels, values, [str(c) for c in table.columns])
    axes.set_xlabel("Classe")
    axes.set_ylabel("Élèves non inscrits")
    axes.set_ylim(bottom=0)
    figure.legend(loc="outside lower center", ncol=4, fontsize=8)
    axes.set_title(title or "Élèves non inscrits par classe")
    return figure


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``figure`` as PNG or SVG, chosen by the suffix of ``path``.

    Raises
    ------
    ValueError
        If the suffix is not ``.png`` or ``.svg``.
    OSError
        If the file cannot be written.
    """
    path = Path(path)
    file_format = path.suffix.lower().lstrip(".")
    if file_format not in SAVE_FORMATS:
        raise ValueError(
            f"Format d'image « {path.suffix} » non pris en charge pour {path.name} ; "
            "attendu : .png ou .svg."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=file_format, dpi=dpi, metadata=_metadata(file_format))
    log.info("Chart written: %s", path)
    return path


def _metadata(file_format: str) -> dict[str, str | None]:
    # No creation date in SVG, so the same data gives the same bytes.
    return {"Date": None} if file_format == "svg" else {}
