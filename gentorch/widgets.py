"""Explorers: a figure driven by a few controls, live in a kernel, static on the web.

An explorer is a drawing function ``draw(fig, **values)`` plus a small grid of parameter
values. :func:`explore` returns an :class:`Explorer`, which Jupyter displays with two
representations in one output:

* ``application/vnd.jupyter.widget-view+json`` -- ipywidgets controls (a slider or a
  dropdown per parameter) that redraw one figure in place inside an ``Output`` area.
  Front ends with a kernel (Jupyter, Colab, VS Code) pick this one.
* ``text/html`` -- the same figure pre-rendered for every point of the grid, behind
  plain HTML range sliders and a few lines of JavaScript. This needs no kernel, so it is
  what the static website shows (``_config.yml`` drops the widget view there).

Both use the same grid of values and the same ``draw`` function, so a reader sees the
same figures on the website as in a kernel. Only ipywidgets API common to versions 7.7
and 8 is used (Colab ships 7.7.1).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import keyword
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

__all__ = ["Explorer", "explore", "figure_to_png"]

_MAX_FRAMES_LIMIT = 400


def figure_to_png(fig: Figure, *, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes (no pyplot, no global state).

    Args:
        fig: the figure to render.
        dpi: resolution in dots per inch.

    Returns:
        The PNG file contents.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    if not isinstance(dpi, numbers.Integral) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"dpi must be a positive int; got {dpi!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _check_params(params: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    if not isinstance(params, Mapping) or not params:
        raise TypeError(
            "params must be a non-empty mapping {name: sequence of values}; "
            f"got {params!r}"
        )
    checked: dict[str, list[Any]] = {}
    for name, values in params.items():
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or keyword.iskeyword(name)
            or name == "fig"
        ):
            raise ValueError(
                "params keys must be identifiers other than 'fig' and Python "
                f"keywords (they become keyword arguments of draw); got {name!r}"
            )
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(
                f"params[{name!r}] must be a list or tuple of values; got {values!r}"
            )
        if len(values) == 0:
            raise ValueError(f"params[{name!r}] must hold at least one value")
        labels = [_label(v) for v in values]
        if len(set(labels)) != len(labels):
            raise ValueError(f"params[{name!r}] has repeated values: {labels}")
        checked[name] = list(values)
    return checked


class Explorer:
    """A figure explorer with a live (ipywidgets) and a static (HTML) view.

    Build it with :func:`explore`. Displaying it in Jupyter shows the live controls when
    a kernel with ipywidgets is there and the pre-rendered static version elsewhere.

    Attributes:
        params: the grid of parameter values, ``{name: [values...]}``.
        initial: the starting value of each parameter.
    """

    def __init__(
        self,
        draw: Callable[..., Any],
        params: Mapping[str, Sequence[Any]],
        *,
        initial: Mapping[str, Any] | None = None,
        figsize: tuple[float, float] = (8.0, 4.0),
        dpi: int = 80,
        max_frames: int = 64,
        title: str | None = None,
    ) -> None:
        if not callable(draw):
            raise TypeError(f"draw must be callable draw(fig, **values); got {draw!r}")
        self.params = _check_params(params)
        if (
            not isinstance(max_frames, int)
            or isinstance(max_frames, bool)
            or not 1 <= max_frames <= _MAX_FRAMES_LIMIT
        ):
            raise ValueError(
                f"max_frames must be an int in [1, {_MAX_FRAMES_LIMIT}]; "
                f"got {max_frames!r}"
            )
        n_frames = 1
        for values in self.params.values():
            n_frames *= len(values)
        if n_frames > max_frames:
            sizes = {k: len(v) for k, v in self.params.items()}
            raise ValueError(
                f"the parameter grid {sizes} has {n_frames} points, more than "
                f"max_frames={max_frames}: use fewer values (each point is one "
                "pre-rendered image on the website) or raise max_frames"
            )
        if (
            not isinstance(figsize, Sequence)
            or len(figsize) != 2
            or not all(_is_number(s) and s > 0 for s in figsize)
        ):
            raise ValueError(f"figsize must be two positive numbers; got {figsize!r}")
        if not isinstance(dpi, numbers.Integral) or isinstance(dpi, bool) or dpi <= 0:
            raise ValueError(f"dpi must be a positive int; got {dpi!r}")
        if initial is not None and not isinstance(initial, Mapping):
            raise TypeError(
                f"initial must be a mapping {{name: value}} or None; got {initial!r}"
            )
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a str or None; got {type(title).__name__}")
        initial = dict(initial or {})
        unknown = set(initial) - set(self.params)
        if unknown:
            raise ValueError(
                f"initial has unknown names {sorted(unknown)}; "
                f"accepted: {list(self.params)}"
            )
        for name, value in initial.items():
            if value not in self.params[name]:
                raise ValueError(
                    f"initial[{name!r}]={value!r} is not one of {self.params[name]}"
                )
        self.initial = {k: initial.get(k, v[0]) for k, v in self.params.items()}
        self.draw = draw
        self.figsize = (float(figsize[0]), float(figsize[1]))
        self.dpi = dpi
        self.title = title
        self._frames: list[str] | None = None
        self._widget: Any = None

    # -- rendering -------------------------------------------------------------------
    def render(self, **values: Any) -> bytes:
        """Draw the figure for one point of the grid and return it as PNG bytes."""
        fig = Figure(figsize=self.figsize)
        self.draw(fig, **values)
        try:
            return figure_to_png(fig, dpi=self.dpi)
        finally:
            fig.clear()

    def frames(self) -> list[str]:
        """Base64 PNGs for every grid point, in row-major order of ``params``."""
        if self._frames is None:
            names = list(self.params)
            frames = []  # cached once complete: a failed draw leaves no partial list
            for combo in itertools.product(*self.params.values()):
                png = self.render(**dict(zip(names, combo, strict=True)))
                frames.append(base64.b64encode(png).decode("ascii"))
            self._frames = frames
        return self._frames

    def to_html(self) -> str:
        """The kernel-free explorer: pre-rendered frames behind HTML range sliders."""
        frames = self.frames()
        names = list(self.params)
        sizes = [len(self.params[n]) for n in names]
        labels = [[_label(v) for v in self.params[n]] for n in names]
        start = [self.params[n].index(self.initial[n]) for n in names]
        rows = []
        for i, name in enumerate(names):
            rows.append(
                f'<label style="display:flex;align-items:center;gap:0.6em;'
                f'margin:0.2em 0;font-family:sans-serif;font-size:0.9em">'
                f'<span style="min-width:8em">{html.escape(name)}</span>'
                f'<input type="range" min="0" max="{sizes[i] - 1}" step="1" '
                f'value="{start[i]}" data-index="{i}" aria-label="{html.escape(name)}" '
                f'style="flex:1;max-width:22em">'
                f'<output style="min-width:5em;font-family:monospace">'
                f"{html.escape(labels[i][start[i]])}</output></label>"
            )
        title = (
            f'<div style="font-weight:bold;margin-bottom:0.3em">'
            f"{html.escape(self.title)}</div>"
            if self.title
            else ""
        )
        first = _flat_index(start, sizes)
        # Escape <, > and & so that no label can close the <script> element early.
        data = (
            json.dumps({"frames": frames, "sizes": sizes, "labels": labels})
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        # The id depends on everything shown, not only on the images: explorers with the
        # same frames but other labels, start or title must not share an id on a page.
        content = json.dumps([names, start, data, self.title])
        uid = "gt-explorer-" + hashlib.sha1(content.encode()).hexdigest()[:12]
        return (
            f'<div class="gt-explorer" id="{uid}" style="margin:0.5em 0">{title}'
            f"{''.join(rows)}"
            f'<img alt="explorer figure" style="max-width:100%;height:auto" '
            f'src="data:image/png;base64,{frames[first]}">'
            f"<script>(function(){{"
            # the script's own container first: the same explorer shown twice on one
            # page has the same id twice
            f"const s=document.currentScript;"
            f'const root=(s&&s.parentElement&&s.parentElement.id==="{uid}")?'
            f's.parentElement:document.getElementById("{uid}");'
            f"const d={data};"
            f'const inputs=root.querySelectorAll("input[type=range]");'
            f'const img=root.querySelector("img");'
            f"function update(){{let k=0;inputs.forEach(function(inp,i){{"
            f"const j=parseInt(inp.value);k=k*d.sizes[i]+j;"
            f"inp.nextElementSibling.textContent=d.labels[i][j];}});"
            f'img.src="data:image/png;base64,"+d.frames[k];}}'
            f'inputs.forEach(function(inp){{inp.addEventListener("input",update);}});'
            f"}})();</script></div>"
        )

    # -- live ------------------------------------------------------------------------
    def widget(self) -> Any:
        """The live ipywidgets view (built once): controls above one redrawn figure."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as widgets
        from IPython.display import Image, display

        controls = {}
        for name, values in self.params.items():
            options = [(_label(v), v) for v in values]
            numeric = all(_is_number(v) for v in values)
            cls = widgets.SelectionSlider if numeric else widgets.Dropdown
            extra = {"continuous_update": False} if numeric else {}
            controls[name] = cls(
                options=options,
                value=self.initial[name],
                description=name,
                style={"description_width": "initial"},
                **extra,
            )
        out = widgets.Output()

        def redraw(_change: Any = None) -> None:
            values = {name: c.value for name, c in controls.items()}
            with out:
                out.clear_output(wait=True)
                display(Image(data=self.render(**values), format="png"))

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        children = list(controls.values()) + [out]
        if self.title:
            children.insert(0, widgets.HTML(f"<b>{html.escape(self.title)}</b>"))
        self._widget = widgets.VBox(children)
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle: dict[str, Any] = {
            "text/plain": f"Explorer({', '.join(self.params)}; "
            f"{len(self.frames())} pre-rendered frames)",
            "text/html": self.to_html(),
        }
        if _kernel_with_widgets():
            box = self.widget()
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": box.model_id,
            }
        return bundle


def _flat_index(indices: Sequence[int], sizes: Sequence[int]) -> int:
    k = 0
    for i, size in zip(indices, sizes, strict=True):
        k = k * size + i
    return k


def _kernel_with_widgets() -> bool:
    """True inside a Jupyter kernel (which can host widget comms) with ipywidgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def explore(
    draw: Callable[..., Any],
    params: Mapping[str, Sequence[Any]],
    *,
    initial: Mapping[str, Any] | None = None,
    figsize: tuple[float, float] = (8.0, 4.0),
    dpi: int = 80,
    max_frames: int = 64,
    title: str | None = None,
) -> Explorer:
    """Explore a figure over a grid of parameter values, live or on the static site.

    Args:
        draw: ``draw(fig, **values)`` adds axes to the empty matplotlib ``Figure``
            ``fig`` and draws on them; it is called once per redraw.
        params: ``{name: [values...]}``; numeric values get a slider, others a dropdown.
        initial: starting value per name (default: the first value of each list).
        figsize: figure size in inches.
        dpi: resolution of the rendered frames.
        max_frames: refuse grids with more points than this (each is one image on the
            website, about 20-60 kB).
        title: optional caption shown above the controls.

    Returns:
        An :class:`Explorer`; make it the last expression of a cell to display it.
    """
    return Explorer(
        draw,
        params,
        initial=initial,
        figsize=figsize,
        dpi=dpi,
        max_frames=max_frames,
        title=title,
    )
