"""Explorers: a figure driven by a few controls, live in a kernel, static on the web.

An explorer is a drawing function ``draw(fig, **values)`` plus a small grid of parameter
values. :func:`explore` returns an :class:`Explorer`, which Jupyter displays with two
representations in one output:

* ``application/vnd.jupyter.widget-view+json`` -- ipywidgets controls (a slider or a
  dropdown per parameter, a play button on the animation axis) that redraw one figure
  in place inside an ``Output`` area. Front ends with a kernel (Jupyter, Colab,
  VS Code) pick this one.
* ``text/html`` -- with ``static=True``, the figure pre-rendered for every point of the
  grid behind plain HTML range sliders (and a play/pause button) driven by a few lines
  of JavaScript. This needs no kernel, so it is what the static website shows
  (``_config.yml`` drops the widget view there). With ``static=False`` (a reader in a
  kernel, who only needs the live controls) it is a single frame, and no time is
  spent rendering the rest.

Both views draw with the same ``draw`` function on the same grid, so a reader sees the
same figures on the website as in a kernel. ``draw`` should only plot: compute what each
grid point needs once, before calling :func:`explore`, and look it up in ``draw``.
Frames are lossless WebP by default (a third of PNG's size), and one explorer's frames
must fit in ``max_bytes``, so that a chapter page stays small. Only ipywidgets API
common to versions 7.7 and 8 is used (Colab ships 7.7.1).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import keyword
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from matplotlib.figure import Figure

from gentorch._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_instance,
    check_int,
)

__all__ = ["Explorer", "explore", "figure_to_image"]

#: Image formats of the pre-rendered frames and their MIME types.
FORMATS = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "webp": {"pil_kwargs": {"lossless": True}},
    "png": {},
    "jpeg": {"pil_kwargs": {"quality": 90}},
}
_MAX_FRAMES_LIMIT = 1000


def figure_to_image(
    fig: Figure, *, format: Literal["webp", "png", "jpeg"] = "png", dpi: int = 100
) -> bytes:
    """Render a matplotlib figure to image bytes (no pyplot, no global state).

    Args:
        fig: the figure to render.
        format: "png", "webp" (lossless) or "jpeg" (quality 90).
        dpi: resolution in dots per inch.

    Returns:
        The image file contents.
    """
    check_instance("fig", fig, Figure, what="matplotlib Figure")
    check_choice("format", format, FORMATS)
    dpi = check_int("dpi", dpi, minimum=1)
    buffer = io.BytesIO()
    options = _SAVE_OPTIONS[format]
    fig.savefig(buffer, format=format, dpi=dpi, bbox_inches="tight", **options)
    return buffer.getvalue()


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _position(options: Sequence[Any], value: Any) -> int | None:
    """Index of `value` among a parameter's grid values, or None.

    The same object first; then equal numbers (within rounding, so 0.3 finds
    linspace's 0.30000000000000004) and equal values of the same type. Booleans
    only match booleans; arrays and tensors, which have no single truth value,
    only match themselves.
    """
    for i, option in enumerate(options):
        if option is value:
            return i
    for i, option in enumerate(options):
        if isinstance(option, bool) or isinstance(value, bool):
            continue
        if _is_number(option) and _is_number(value):
            if math.isclose(option, value, rel_tol=1e-9, abs_tol=1e-12):
                return i
            continue
        try:
            if type(option) is type(value) and bool(option == value):
                return i
        except (TypeError, ValueError, RuntimeError):
            continue
    return None


def _check_params(params: Any) -> dict[str, list[Any]]:
    if not isinstance(params, Mapping):
        raise TypeError(
            "params must be a mapping {name: sequence of values}; "
            f"got {type(params).__name__}"
        )
    if not params:
        raise ValueError("params must hold at least one parameter; got {}")
    checked: dict[str, list[Any]] = {}
    for name, values in params.items():
        if not isinstance(name, str):
            raise TypeError(f"params keys must be str (parameter names); got {name!r}")
        if not name.isidentifier() or keyword.iskeyword(name) or name == "fig":
            raise ValueError(
                "params keys must be identifiers other than 'fig' and Python "
                f"keywords (they become keyword arguments of draw); got {name!r}"
            )
        if getattr(values, "ndim", None) == 1 and hasattr(values, "tolist"):
            # a 1-D NumPy array or tensor: its Python values
            values = values.tolist()
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


def _check_figsize(figsize: Any) -> tuple[float, float]:
    ok = isinstance(figsize, Sequence) and len(figsize) == 2
    if not ok or not all(_is_number(s) for s in figsize):
        raise TypeError(f"figsize must be two numbers (inches); got {figsize!r}")
    if not all(s > 0 for s in figsize):
        raise ValueError(f"figsize must be two positive numbers; got {figsize!r}")
    return float(figsize[0]), float(figsize[1])


class Explorer:
    """A figure explorer with a live (ipywidgets) and a static (HTML) view.

    Build it with :func:`explore`, whose docstring describes the arguments. Displaying
    it in Jupyter shows the live controls when a kernel with ipywidgets is there and
    the HTML view elsewhere.

    Attributes:
        params: the grid of parameter values, ``{name: [values...]}``.
        initial: the starting value of each parameter.
        animate: the name of the parameter that play/pause steps through, or None.
    """

    def __init__(
        self,
        draw: Callable[..., Any],
        params: Mapping[str, Sequence[Any]],
        *,
        initial: Mapping[str, Any] | None = None,
        animate: str | None = None,
        interval_ms: int = 600,
        static: bool = True,
        format: Literal["webp", "png", "jpeg"] = "webp",
        figsize: tuple[float, float] = (8.0, 4.0),
        dpi: int = 100,
        max_frames: int = 256,
        max_bytes: int = 2_000_000,
        title: str | None = None,
    ) -> None:
        check_callable("draw", draw, signature="draw(fig, **values)")
        self.params = _check_params(params)
        max_frames = check_int(
            "max_frames", max_frames, minimum=1, maximum=_MAX_FRAMES_LIMIT
        )
        self.max_bytes = check_int("max_bytes", max_bytes, minimum=1)
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
        self.figsize = _check_figsize(figsize)
        self.dpi = check_int("dpi", dpi, minimum=1)
        self.format = check_choice("format", format, FORMATS)
        self.static = check_bool("static", static)
        self.interval_ms = check_int("interval_ms", interval_ms, minimum=50)
        check_instance("initial", initial, Mapping, optional=True, what="mapping")
        self.title = check_instance("title", title, str, optional=True)
        if animate is not None:
            check_instance("animate", animate, str, optional=True)
            check_choice("animate", animate, self.params)
        self.animate = animate
        initial = dict(initial or {})
        unknown = set(initial) - set(self.params)
        if unknown:
            raise ValueError(
                f"initial has unknown names {sorted(unknown)}; "
                f"accepted: {list(self.params)}"
            )
        # positions on the grid of the starting values
        self._start = []
        for name, options in self.params.items():
            i = _position(options, initial[name]) if name in initial else 0
            if i is None:
                labels = [_label(v) for v in options]
                raise ValueError(
                    f"initial[{name!r}]={initial[name]!r} is not one of {labels}"
                )
            self._start.append(i)
        self.initial = {
            name: options[i]
            for (name, options), i in zip(self.params.items(), self._start, strict=True)
        }
        self.draw = draw
        self._images: dict[tuple, bytes] = {}
        self._frames: list[str] | None = None
        self._widget: Any = None

    # -- rendering -------------------------------------------------------------------
    def _index(self, values: Mapping[str, Any]) -> tuple[int, ...]:
        if set(values) != set(self.params):
            raise ValueError(
                f"values must name every parameter {list(self.params)}; "
                f"got {sorted(values)}"
            )
        index = []
        for name, options in self.params.items():
            i = _position(options, values[name])
            if i is None:
                labels = [_label(v) for v in options]
                raise ValueError(f"{name}={values[name]!r} is not one of {labels}")
            index.append(i)
        return tuple(index)

    def render(self, *, format: str | None = None, **values: Any) -> bytes:
        """Image bytes of the figure at one grid point (drawn once per format, then
        reused: the static frames are in `format`, the live view shows PNGs).

        Args:
            format: image format; None means the explorer's `format`.
            **values: one value from the grid for every parameter.
        """
        format = self.format if format is None else format
        check_choice("format", format, FORMATS)
        index = self._index(values)
        key = (format, index)
        if key not in self._images:
            fig = Figure(figsize=self.figsize)
            # the grid's own values (not equal stand-ins) go to draw
            grid = zip(self.params.items(), index, strict=True)
            self.draw(fig, **{name: options[i] for (name, options), i in grid})
            try:
                self._images[key] = figure_to_image(fig, format=format, dpi=self.dpi)
            finally:
                fig.clear()
        return self._images[key]

    def frames(self) -> list[str]:
        """Base64 images for every grid point, in row-major order of ``params``.

        Raises:
            ValueError: if they take more than ``max_bytes`` of page.
        """
        if self._frames is None:
            frames = []  # kept once complete: a failed draw leaves no partial list
            sizes = [len(options) for options in self.params.values()]
            for index in itertools.product(*(range(n) for n in sizes)):
                grid = zip(self.params.items(), index, strict=True)
                image = self.render(**{name: opts[i] for (name, opts), i in grid})
                frames.append(base64.b64encode(image).decode("ascii"))
            # the page holds every frame, and the first one twice (in <img>)
            first = frames[_flat_index(self._start, sizes)]
            total = sum(len(f) for f in frames) + len(first)
            if total > self.max_bytes:
                raise ValueError(
                    f"the {len(frames)} frames take {total / 1e6:.2f} MB of page, more "
                    f"than max_bytes={self.max_bytes} ({self.max_bytes / 1e6:.2f} MB; "
                    "a chapter page must stay under 5 MB): lower dpi or figsize, use "
                    "fewer values, or raise max_bytes"
                )
            self._frames = frames
        return self._frames

    @property
    def nbytes(self) -> int:
        """Bytes the pre-rendered frames add to a page (renders them if needed)."""
        frames = self.frames()
        sizes = [len(options) for options in self.params.values()]
        return sum(len(f) for f in frames) + len(
            frames[_flat_index(self._start, sizes)]
        )

    def _uid(self, *parts: Any) -> str:
        # The id depends on everything shown, not only on the images: explorers with the
        # same frames but other labels, start or title must not share an id on a page.
        content = json.dumps([list(self.params), self.title, *parts], default=str)
        return "gt-explorer-" + hashlib.sha1(content.encode()).hexdigest()[:12]

    def _title_html(self) -> str:
        if not self.title:
            return ""
        return (
            '<div style="font-weight:bold;margin-bottom:0.3em">'
            f"{html.escape(self.title)}</div>"
        )

    def _is_slider(self, name: str) -> bool:
        # numbers (and the animated parameter) slide; other choices are buttons
        values = self.params[name]
        return name == self.animate or all(_is_number(v) for v in values)

    def _row(self, uid: str, i: int, name: str, labels: list[str], start: int) -> str:
        flex = (
            "display:flex;align-items:center;gap:0.6em;flex-wrap:wrap;"
            "margin:0.2em 0;font-family:sans-serif;font-size:0.9em"
        )
        caption = f'<span style="min-width:8em">{html.escape(name)}</span>'
        if not self._is_slider(name):
            # a choice between named options: one radio button per option
            group = f"{uid}-{i}"
            buttons = "".join(
                '<label style="display:inline-flex;align-items:center;gap:0.25em;'
                'margin-right:0.8em;cursor:pointer">'
                f'<input type="radio" name="{group}" value="{j}"'
                f"{' checked' if j == start else ''}>{html.escape(text)}</label>"
                for j, text in enumerate(labels)
            )
            return (
                f'<fieldset data-index="{i}" aria-label="{html.escape(name)}" '
                f'style="{flex};border:0;padding:0">'
                f"{caption}<span>{buttons}</span></fieldset>"
            )
        button = ""
        if name == self.animate:
            button = (
                '<button type="button" class="gt-play" aria-pressed="false" '
                'style="font-size:0.85em;padding:0.1em 0.6em;cursor:pointer">'
                "&#9654; play</button>"
            )
        return (
            f'<label style="{flex}">{caption}'
            f'<input type="range" min="0" max="{len(labels) - 1}" step="1" '
            f'value="{start}" data-index="{i}" aria-label="{html.escape(name)}" '
            'style="flex:1;max-width:22em">'
            '<output style="min-width:5em;font-family:monospace">'
            f"{html.escape(labels[start])}</output>{button}</label>"
        )

    def to_html(self) -> str:
        """The kernel-free explorer: every frame behind HTML sliders and radios."""
        frames = self.frames()
        names = list(self.params)
        sizes = [len(self.params[n]) for n in names]
        labels = [[_label(v) for v in self.params[n]] for n in names]
        start = list(self._start)
        mime = FORMATS[self.format]
        payload = {
            "frames": frames,
            "sizes": sizes,
            "labels": labels,
            "mime": mime,
            "animate": None if self.animate is None else names.index(self.animate),
            "interval": self.interval_ms,
        }
        # Escape <, > and & so that no label can close the <script> element early.
        data = (
            json.dumps(payload)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        uid = self._uid(start, data)
        rows = [self._row(uid, i, n, labels[i], start[i]) for i, n in enumerate(names)]
        first = _flat_index(start, sizes)
        return (
            f'<div class="gt-explorer" id="{uid}" style="margin:0.5em 0">'
            f"{self._title_html()}{''.join(rows)}"
            f'<img alt="explorer figure" style="max-width:100%;height:auto" '
            f'src="data:{mime};base64,{frames[first]}">'
            f"<script>(function(){{{_SCRIPT.replace('UID', uid).replace('DATA', data)}"
            "})();</script></div>"
        )

    def _preview_html(self) -> str:
        """One frame (the initial one) with a note: the view when ``static=False``."""
        image = self.render(**self.initial)
        mime = FORMATS[self.format]
        settings = ", ".join(f"{k}={_label(v)}" for k, v in self.initial.items())
        note = (
            f"Explorer at {settings}. The other settings were not pre-rendered "
            "(static=False); run the notebook in Jupyter or Colab for live controls."
        )
        encoded = base64.b64encode(image).decode("ascii")
        return (
            f'<div class="gt-explorer-preview" id="{self._uid(settings)}">'
            f"{self._title_html()}"
            f'<img alt="explorer figure" style="max-width:100%;height:auto" '
            f'src="data:{mime};base64,{encoded}">'
            f'<div style="font-size:0.85em;font-style:italic">{html.escape(note)}'
            "</div></div>"
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
            slider = self._is_slider(name)
            cls = widgets.SelectionSlider if slider else widgets.ToggleButtons
            extra = {"continuous_update": False} if slider else {}
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
            image = self.render(format="png", **values)
            with out:
                out.clear_output(wait=True)
                display(Image(data=image, format="png"))

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        rows: list[Any] = []
        for name, control in controls.items():
            if name == self.animate:
                play = widgets.Play(
                    value=control.index,
                    min=0,
                    max=len(self.params[name]) - 1,
                    step=1,
                    interval=self.interval_ms,
                    description="play",
                )
                # loop, as the website's player does: the trait is `repeat` in
                # ipywidgets 8 and `_repeat` in 7.7 (Colab)
                traits = play.trait_names()
                setattr(play, "repeat" if "repeat" in traits else "_repeat", True)
                # linked in the browser: the play button moves the slider, which
                # asks the kernel for the frame
                widgets.jslink((play, "value"), (control, "index"))
                rows.append(widgets.HBox([control, play]))
            else:
                rows.append(control)
        children = rows + [out]
        if self.title:
            children.insert(0, widgets.HTML(f"<b>{html.escape(self.title)}</b>"))
        self._widget = widgets.VBox(children)
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        if self.static:
            text = f"{len(self.frames())} pre-rendered frames"
            page = self.to_html()
        else:
            text = "live only, not pre-rendered"
            page = self._preview_html()
        bundle: dict[str, Any] = {
            "text/plain": f"Explorer({', '.join(self.params)}; {text})",
            "text/html": page,
        }
        if _kernel_with_widgets():
            box = self.widget()
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": box.model_id,
            }
        return bundle


# The kernel-free view's script. UID and DATA are filled in by Explorer.to_html. It
# drives its own container first (document.currentScript): the same explorer shown
# twice on one page has the same id twice.
_SCRIPT = (
    "const s=document.currentScript;"
    'const root=(s&&s.parentElement&&s.parentElement.id==="UID")?'
    's.parentElement:document.getElementById("UID");'
    "const d=DATA;"
    # one control per parameter, in order: a range slider or a fieldset of radios
    'const inputs=root.querySelectorAll("[data-index]");'
    'const img=root.querySelector("img");'
    'function pos(c){if(c.type==="range"){return parseInt(c.value);}'
    'const r=c.querySelector("input:checked");return r?parseInt(r.value):0;}'
    "function update(){let k=0;inputs.forEach(function(inp,i){"
    "const j=pos(inp);k=k*d.sizes[i]+j;"
    'if(inp.type==="range"){inp.nextElementSibling.textContent=d.labels[i][j];}});'
    'img.src="data:"+d.mime+";base64,"+d.frames[k];}'
    # radios fire "change" (and a bubbling "input") on the fieldset
    "inputs.forEach(function(inp){"
    'inp.addEventListener(inp.type==="range"?"input":"change",update);});'
    'const btn=root.querySelector("button.gt-play");'
    "if(btn&&d.animate!==null){const inp=inputs[d.animate];"
    "const n=d.sizes[d.animate];let timer=null;"
    "function stop(){clearInterval(timer);timer=null;"
    'btn.innerHTML="&#9654; play";btn.setAttribute("aria-pressed","false");}'
    "function tick(){inp.value=(parseInt(inp.value)+1)%n;update();}"
    'btn.addEventListener("click",function(ev){ev.preventDefault();'
    "if(timer!==null){stop();return;}"
    'btn.innerHTML="&#10074;&#10074; pause";btn.setAttribute("aria-pressed","true");'
    "tick();timer=setInterval(tick,d.interval);});"
    'inp.addEventListener("input",function(){if(timer!==null){stop();}});}'
)


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
    animate: str | None = None,
    interval_ms: int = 600,
    static: bool = True,
    format: Literal["webp", "png", "jpeg"] = "webp",
    figsize: tuple[float, float] = (8.0, 4.0),
    dpi: int = 100,
    max_frames: int = 256,
    max_bytes: int = 2_000_000,
    title: str | None = None,
) -> Explorer:
    """Explore a figure over a grid of parameter values, live or on the static site.

    Args:
        draw: ``draw(fig, **values)`` adds axes to the empty matplotlib ``Figure``
            ``fig`` and plots on them; it is called once per grid point shown. Keep
            the computing out of it: compute per grid point once, beforehand.
        params: ``{name: [values...]}``; numeric values get a slider, others a dropdown.
        initial: starting value per name (default: the first value of each list).
        animate: a parameter name (training step, time, ...) that gets a play/pause
            button stepping through its values, on the website and live.
        interval_ms: time per frame while playing.
        static: pre-render every grid point for the kernel-free HTML view (what the
            website needs); False renders only the initial frame, for live use.
        format: image format of the frames: "webp" (lossless, smallest), "png" or
            "jpeg".
        figsize: figure size in inches.
        dpi: resolution of the rendered frames.
        max_frames: refuse grids with more points than this (at most 1000).
        max_bytes: refuse frames that together take more page than this.
        title: optional caption shown above the controls.

    Returns:
        An :class:`Explorer` (with ``static=True`` its frames already rendered);
        make it the last expression of a cell to display it.
    """
    explorer = Explorer(
        draw,
        params,
        initial=initial,
        animate=animate,
        interval_ms=interval_ms,
        static=static,
        format=format,
        figsize=figsize,
        dpi=dpi,
        max_frames=max_frames,
        max_bytes=max_bytes,
        title=title,
    )
    if static:
        # render now, so that a failing draw or a page over budget fails this cell
        # (an error while Jupyter displays an object is only shown, not raised)
        explorer.frames()
    return explorer
