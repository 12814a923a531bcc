"""Tests for gentorch.widgets."""

import base64
import io
import itertools
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import IPython
import IPython.display
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import gentorch as gt
from gentorch import widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = {"figsize": (1, 1), "dpi": 20, "format": "png"}
PARAMS = {"a": [0, 1, 2], "b": ["x", "y"]}
COMBOS = list(itertools.product(*PARAMS.values()))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def colour_of(a, b):
    """The face colour that `colour_draw` paints for a grid point, as 0-255 RGB."""
    return (a * 100, {"x": 50, "y": 200}[b], 30)


class Recorder:
    """A draw function that paints a colour coding its values and records its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, fig, **values):
        assert isinstance(fig, Figure) and not fig.axes  # an empty figure every time
        self.calls.append(values)
        ax = fig.add_subplot()
        ax.set_facecolor([c / 255 for c in colour_of(**values)])
        ax.set_xticks([])
        ax.set_yticks([])


def centre_pixel(png):
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.getpixel((image.size[0] // 2, image.size[1] // 2))


def make(params=None, draw=None, **kwargs):
    """A lazy Explorer (gt.explore renders static frames at once; see its test)."""
    return widgets.Explorer(draw or Recorder(), params or PARAMS, **{**TINY, **kwargs})


class Page(HTMLParser):
    """Collects the tags, attributes, <output> texts and <script> bodies of the HTML."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.outputs, self.scripts, self._in = [], [], [], None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "output":
            self.outputs.append(data)
        elif self._in == "script":
            self.scripts.append(data)

    def find(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def embedded_data(html_text):
    (script,) = Page(html_text).scripts
    match = re.search(r"const d=(.*?);const inputs=", script, re.S)
    assert match is not None
    return json.loads(match.group(1))


def js_flat_index(positions, sizes):
    """The index math of the inline JavaScript: ``k = k * d.sizes[i] + j``."""
    k = 0
    for i, j in enumerate(positions):
        k = k * sizes[i] + j
    return k


# -- figure_to_image -------------------------------------------------------------------
def test_figure_to_image_gives_png_whose_size_follows_dpi():
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    small = widgets.figure_to_image(fig, dpi=20)
    large = widgets.figure_to_image(fig, dpi=40)
    assert small.startswith(PNG_MAGIC) and large.startswith(PNG_MAGIC)
    width_small = Image.open(io.BytesIO(small)).size[0]
    width_large = Image.open(io.BytesIO(large)).size[0]
    assert 1.8 < width_large / width_small < 2.2


def test_figure_to_image_webp_is_lossless_and_smaller_than_png():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot(np.sin(np.linspace(0, 6, 100)), label="sin")
    ax.legend()
    png = widgets.figure_to_image(fig, format="png", dpi=80)
    webp = widgets.figure_to_image(fig, format="webp", dpi=80)
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    assert len(webp) < len(png)
    # lossless: the same pixels as the PNG
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(webp)).convert("RGB"))
    assert np.array_equal(a, b)
    jpeg = widgets.figure_to_image(fig, format="jpeg", dpi=80)
    assert jpeg[:2] == b"\xff\xd8"


def test_figure_to_image_rejects_bad_arguments():
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        widgets.figure_to_image("not a figure")
    fig = Figure(figsize=(1, 1))
    for dpi in (0, -5):
        with pytest.raises(ValueError, match="dpi must be an int >= 1"):
            widgets.figure_to_image(fig, dpi=dpi)
    for dpi in (1.5, True):
        with pytest.raises(TypeError, match="dpi must be an int"):
            widgets.figure_to_image(fig, dpi=dpi)
    with pytest.raises(ValueError, match="format must be one of 'webp', 'png', 'jpeg'"):
        widgets.figure_to_image(fig, format="gif")


# -- construction ----------------------------------------------------------------------
def test_explore_renders_static_frames_at_once_and_live_only_lazily():
    # static=True: drawn inside explore(), so a failing draw fails the cell
    draw = Recorder()
    assert len(gt.explore(draw, PARAMS, **TINY).frames()) == len(COMBOS)
    assert len(draw.calls) == len(COMBOS)
    with pytest.raises(ValueError, match="more than max_bytes"):
        gt.explore(Recorder(), PARAMS, **TINY, max_bytes=10)


def test_explore_returns_explorer_with_defaults_and_draws_lazily():
    draw = Recorder()
    explorer = gt.explore(draw, PARAMS, **TINY, static=False)
    assert gt.explore is widgets.explore
    assert isinstance(explorer, widgets.Explorer)
    assert explorer.params == {"a": [0, 1, 2], "b": ["x", "y"]}
    assert explorer.initial == {"a": 0, "b": "x"}
    assert explorer.figsize == (1.0, 1.0) and explorer.dpi == 20
    assert draw.calls == []  # nothing is rendered before it is asked for


def test_explore_copies_tuples_to_lists():
    explorer = make({"a": (1, 2)}, initial={"a": 2})
    assert explorer.params == {"a": [1, 2]} and explorer.initial == {"a": 2}


def test_explore_rejects_bad_draw_and_params():
    with pytest.raises(TypeError, match="draw must be callable"):
        widgets.explore(42, PARAMS)
    with pytest.raises(ValueError, match="params must hold at least one parameter"):
        widgets.explore(Recorder(), {})
    with pytest.raises(TypeError, match="params must be a mapping"):
        widgets.explore(Recorder(), [("a", [1, 2])])
    with pytest.raises(ValueError, match="params keys must be identifiers"):
        widgets.explore(Recorder(), {"not ok": [1, 2]})
    with pytest.raises(TypeError, match="params keys must be str"):
        widgets.explore(Recorder(), {1: [1, 2]})
    with pytest.raises(TypeError, match=r"params\['a'\] must be a list or tuple"):
        widgets.explore(Recorder(), {"a": "abc"})
    with pytest.raises(TypeError, match=r"params\['a'\] must be a list or tuple"):
        widgets.explore(Recorder(), {"a": {1, 2}})
    with pytest.raises(ValueError, match=r"params\['a'\] must hold at least one value"):
        widgets.explore(Recorder(), {"a": []})
    with pytest.raises(ValueError, match=r"params\['b'\] has repeated values"):
        widgets.explore(Recorder(), {"a": [1], "b": [0.5, 0.5]})


def test_explore_rejects_grids_larger_than_max_frames():
    params = {"a": list(range(5)), "b": list(range(5))}
    assert len(make(params, max_frames=25).params) == 2
    with pytest.raises(ValueError, match="25 points, more than max_frames=24"):
        make(params, max_frames=24)
    with pytest.raises(ValueError, match="more than max_frames=256"):  # the default
        make({"a": list(range(17)), "b": list(range(16))})
    # more than 64 frames are fine when the page budget allows
    big = make(
        {"a": list(range(10)), "b": list(range(10))}, draw=lambda fig, a, b: None
    )
    assert len(big.frames()) == 100


def test_explore_rejects_bad_max_frames_and_figsize():
    for max_frames in (0, 1001):
        with pytest.raises(
            ValueError, match=r"max_frames must be an int in \[1, 1000\]"
        ):
            make(max_frames=max_frames)
    for max_frames in (2.5, "8", True):
        with pytest.raises(TypeError, match="max_frames must be an int"):
            make(max_frames=max_frames)
    for figsize in (5, "ab", (1,), (1, 1, 1), ("a", 1), (True, 1)):
        with pytest.raises(TypeError, match="figsize must be two numbers"):
            make(figsize=figsize)
    for figsize in ((0, 1), (1, -2)):
        with pytest.raises(ValueError, match="figsize must be two positive numbers"):
            make(figsize=figsize)


def test_explore_rejects_bad_dpi_before_anything_is_drawn():
    draw = Recorder()
    for dpi in (0, -3):
        with pytest.raises(ValueError, match="dpi must be an int >= 1"):
            make(draw=draw, dpi=dpi)
    for dpi in (1.5, True):
        with pytest.raises(TypeError, match="dpi must be an int"):
            make(draw=draw, dpi=dpi)
    assert draw.calls == []


def test_explore_rejects_bad_initial():
    with pytest.raises(ValueError, match=r"initial has unknown names \['zz'\]"):
        make(initial={"zz": 1})
    with pytest.raises(ValueError, match=r"initial\['a'\]=99 is not one of"):
        make(initial={"a": 99})
    with pytest.raises(ValueError, match=r"initial\['b'\]='z' is not one of"):
        make(initial={"a": 1, "b": "z"})


# -- frames ----------------------------------------------------------------------------
def test_render_is_deterministic_and_draws_the_given_values():
    explorer = make()
    png = explorer.render(a=2, b="y")
    assert png.startswith(PNG_MAGIC)
    assert png == explorer.render(a=2, b="y")
    assert png != explorer.render(a=2, b="x")
    assert centre_pixel(png) == colour_of(2, "y")


def test_frames_are_pngs_one_per_grid_point_in_row_major_order():
    explorer = make()
    frames = explorer.frames()
    assert len(frames) == 3 * 2
    pngs = [base64.b64decode(frame, validate=True) for frame in frames]
    assert all(png.startswith(PNG_MAGIC) for png in pngs)
    assert len(set(pngs)) == len(pngs)  # distinct draws give distinct frames
    for png, (a, b) in zip(pngs, COMBOS, strict=True):
        assert centre_pixel(png) == colour_of(a, b)
        assert png == explorer.render(a=a, b=b)


def test_frames_are_cached():
    draw = Recorder()
    explorer = make(draw=draw)
    first = explorer.frames()
    explorer.frames()
    explorer.to_html()
    explorer.to_html()
    explorer._repr_mimebundle_()
    assert explorer.frames() == first
    assert draw.calls == [dict(zip(PARAMS, combo, strict=True)) for combo in COMBOS]


def test_frames_after_a_failed_draw_cover_the_whole_grid():
    draw = Recorder()
    failures = []

    def flaky(fig, **values):
        if values == {"a": 1, "b": "y"} and not failures:
            failures.append(values)
            raise RuntimeError("draw failed")
        draw(fig, **values)

    explorer = make(draw=flaky)
    with pytest.raises(RuntimeError, match="draw failed"):
        explorer.frames()
    frames = explorer.frames()  # not the truncated list from the failed attempt
    assert len(frames) == len(COMBOS)
    assert centre_pixel(base64.b64decode(frames[-1])) == colour_of(2, "y")


# -- static HTML -----------------------------------------------------------------------
def test_to_html_has_a_slider_per_number_and_radios_per_choice():
    explorer = make(initial={"a": 2, "b": "y"})
    page = Page(explorer.to_html())
    (slider,) = [a for a in page.find("input") if a["type"] == "range"]
    assert slider["aria-label"] == "a" and slider["data-index"] == "0"
    assert (slider["min"], slider["max"], slider["value"]) == ("0", "2", "2")
    assert page.outputs == ["2"]  # the label shown next to the slider
    # the named choice b is one fieldset of radio buttons, the initial one checked
    (group,) = page.find("fieldset")
    assert group["data-index"] == "1" and group["aria-label"] == "b"
    radios = [a for a in page.find("input") if a["type"] == "radio"]
    assert [r["value"] for r in radios] == ["0", "1"]
    assert ["checked" in r for r in radios] == [False, True]
    (root,) = [a for a in page.find("div") if a.get("class") == "gt-explorer"]
    assert root["id"].startswith("gt-explorer-")
    assert {r["name"] for r in radios} == {root["id"] + "-1"}
    assert f'getElementById("{root["id"]}")' in page.scripts[0]
    labels = [d for tag, attrs in page.tags for d in [tag] if tag == "label"]
    assert len(labels) == 3  # the slider's row and one per radio button


def test_to_html_embeds_frames_sizes_and_labels():
    params = {"a": [0.5, 1.0, 2.0], "b": ["x", "y"]}
    explorer = make(params, draw=lambda fig, a, b: None)
    data = embedded_data(explorer.to_html())
    assert set(data) == {"frames", "sizes", "labels", "mime", "animate", "interval"}
    assert data["mime"] == "image/png" and data["animate"] is None
    assert data["frames"] == explorer.frames()
    assert data["sizes"] == [3, 2]
    assert data["labels"] == [["0.5", "1", "2"], ["x", "y"]]


def test_to_html_initial_image_is_the_frame_of_initial():
    explorer = make(initial={"a": 1, "b": "y"})
    (img,) = Page(explorer.to_html()).find("img")
    src = img["src"]
    assert src.startswith("data:image/png;base64,")
    png = base64.b64decode(src.removeprefix("data:image/png;base64,"))
    assert png == explorer.render(a=1, b="y")
    assert centre_pixel(png) == colour_of(1, "y")
    default = Page(make().to_html()).find("img")[0]["src"]
    assert default.endswith(make().frames()[0])


def test_javascript_index_math_matches_frame_order():
    params = {"a": [0, 1, 2], "b": ["x", "y"], "c": [10, 20, 30, 40]}
    explorer = make(params, draw=lambda fig, a, b, c: None)
    html_text = explorer.to_html()
    (script,) = Page(html_text).scripts
    assert "k=k*d.sizes[i]+j" in script  # the formula simulated by js_flat_index
    sizes = embedded_data(html_text)["sizes"]
    positions = itertools.product(*(range(size) for size in sizes))
    flat = [js_flat_index(p, sizes) for p in positions]
    assert flat == list(range(len(flat)))  # slider positions in product order
    for p, combo in zip(
        itertools.product(*(range(size) for size in sizes)),
        itertools.product(*params.values()),
        strict=True,
    ):
        assert combo == tuple(v[i] for v, i in zip(params.values(), p, strict=True))
        assert js_flat_index(p, sizes) == widgets._flat_index(p, sizes)


def test_javascript_index_picks_the_frame_drawn_for_the_slider_values():
    explorer = make()
    data = embedded_data(explorer.to_html())
    for positions in itertools.product(range(3), range(2)):
        a, b = (PARAMS[name][i] for name, i in zip(PARAMS, positions, strict=True))
        frame = data["frames"][js_flat_index(positions, data["sizes"])]
        assert centre_pixel(base64.b64decode(frame)) == colour_of(a, b)


def test_to_html_is_deterministic_and_ids_depend_on_content():
    def root_id(html_text):
        return re.search(r'id="(gt-explorer-[0-9a-f]+)"', html_text).group(1)

    one, two = make(), make()
    assert one.to_html() == two.to_html()
    other = make({"a": [0, 1], "b": ["x", "y"]})
    assert root_id(other.to_html()) != root_id(one.to_html())
    # Same images, other labels: two such explorers on one page need distinct ids.
    blank = make({"a": [1, 2]}, draw=lambda fig, a: None)
    relabelled = make({"c": [3, 4]}, draw=lambda fig, c: None)
    assert blank.frames() == relabelled.frames()
    assert root_id(blank.to_html()) != root_id(relabelled.to_html())


def test_to_html_escapes_labels_and_title():
    params = {"tag": ["<b>", "x&y", "</script><i>"]}
    for animate in (None, "tag"):  # radio buttons, then a slider
        explorer = make(
            params, draw=lambda fig, tag: None, title="<i>T</i>", animate=animate
        )
        html_text = explorer.to_html()
        for raw in ("<b>", "<i>", "x&y"):
            assert raw not in html_text
        assert html_text.count("</script>") == 1
        assert "&lt;b&gt;" in html_text
        # every radio button shows its option; a slider shows its current one
        assert ("x&amp;y" in html_text) == (animate is None)
    page = Page(html_text)
    assert page.outputs == ["<b>"]  # entities decoded by the parser
    assert "&lt;i&gt;T&lt;/i&gt;" in html_text
    assert embedded_data(html_text)["labels"] == [params["tag"]]


def test_title_is_optional():
    assert "font-weight:bold" not in make().to_html()
    assert "My title" in make(title="My title").to_html()


# -- live widget -----------------------------------------------------------------------
@pytest.fixture
def displayed(monkeypatch):
    """Records what the widget displays (outside a kernel display() just prints)."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    return shown


def controls_of(box):
    return {c.description: c for c in box.children if hasattr(c, "description")}


def test_widget_builds_sliders_for_numbers_and_toggle_buttons_otherwise(displayed):
    params = {"n": [1, 2.5, 4], "s": ["x", "y"], "flag": [False, True], "m": [1, "x"]}
    explorer = make(params, draw=lambda fig, **values: None)
    box = explorer.widget()
    assert isinstance(box, ipywidgets.VBox)
    controls = controls_of(box)
    assert list(controls) == ["n", "s", "flag", "m"]
    assert isinstance(controls["n"], ipywidgets.SelectionSlider)
    assert not controls["n"].continuous_update
    for name in ("s", "flag", "m"):
        assert isinstance(controls[name], ipywidgets.ToggleButtons)
    assert controls["s"].options == (("x", "x"), ("y", "y"))
    assert controls["n"].options == (("1", 1), ("2.5", 2.5), ("4", 4))
    assert isinstance(box.children[-1], ipywidgets.Output)
    assert explorer.widget() is box  # built once


def test_widget_uses_a_slider_for_numpy_numbers(displayed):
    explorer = make(
        {"n": list(np.arange(3)), "x": list(np.linspace(0, 1, 3))},
        draw=lambda fig, **values: None,
    )
    controls = controls_of(explorer.widget())
    assert isinstance(controls["n"], ipywidgets.SelectionSlider)
    assert isinstance(controls["x"], ipywidgets.SelectionSlider)


def test_widget_starts_at_initial_and_redraws_on_change(displayed):
    draw = Recorder()
    explorer = make(draw=draw, initial={"a": 1, "b": "y"})
    box = explorer.widget()
    controls = controls_of(box)
    assert controls["a"].value == 1 and controls["b"].value == "y"
    assert draw.calls == [{"a": 1, "b": "y"}]
    assert len(displayed) == 1
    assert isinstance(displayed[0], IPython.display.Image)
    assert displayed[0].data == explorer.render(a=1, b="y")

    cleared = []
    out = box.children[-1]
    out.clear_output = lambda **kwargs: cleared.append(kwargs)
    draw.calls.clear()
    controls["a"].value = 2
    assert draw.calls[0] == {"a": 2, "b": "y"}
    assert cleared == [{"wait": True}]  # redrawn in place
    assert len(displayed) == 2
    assert centre_pixel(displayed[-1].data) == colour_of(2, "y")
    controls["b"].value = "x"
    assert draw.calls[-1] == {"a": 2, "b": "x"}
    assert len(displayed) == 3
    assert centre_pixel(displayed[-1].data) == colour_of(2, "x")


def test_widget_shows_escaped_title_first(displayed):
    box = make(title="<i>T</i>").widget()
    assert isinstance(box.children[0], ipywidgets.HTML)
    assert box.children[0].value == "<b>&lt;i&gt;T&lt;/i&gt;</b>"


# -- display ---------------------------------------------------------------------------
def test_mimebundle_outside_a_kernel_has_no_widget_view():
    explorer = make()
    assert not widgets._kernel_with_widgets()
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/html"] == explorer.to_html()
    assert bundle["text/plain"] == "Explorer(a, b; 6 pre-rendered frames)"
    assert 'class="gt-play"' not in bundle["text/html"]  # no animation axis
    assert explorer._widget is None  # no widget is built for the static view


def test_mimebundle_in_a_kernel_adds_the_widget_view(monkeypatch, displayed):
    monkeypatch.setattr(widgets, "_kernel_with_widgets", lambda: True)
    explorer = make()
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/html"] == explorer.to_html()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view == {
        "version_major": 2,
        "version_minor": 0,
        "model_id": explorer.widget().model_id,
    }
    assert view["model_id"]


def test_kernel_detection(monkeypatch):
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert not widgets._kernel_with_widgets()
    monkeypatch.setattr(IPython, "get_ipython", lambda: SimpleNamespace())
    assert not widgets._kernel_with_widgets()  # a terminal IPython has no kernel
    monkeypatch.setattr(IPython, "get_ipython", lambda: SimpleNamespace(kernel=None))
    assert not widgets._kernel_with_widgets()
    monkeypatch.setattr(
        IPython, "get_ipython", lambda: SimpleNamespace(kernel=object())
    )
    assert widgets._kernel_with_widgets()


def test_params_keys_cannot_be_fig_or_keywords():
    for key in ("fig", "class", "lambda"):
        with pytest.raises(ValueError, match="other than 'fig' and Python keywords"):
            make({key: [1, 2]})


def test_title_and_initial_types_are_checked_up_front():
    with pytest.raises(TypeError, match="title must be a str"):
        make(title=123)
    with pytest.raises(TypeError, match="initial must be a mapping"):
        make(initial=[("a", 1)])


def test_dpi_accepts_numpy_integers():
    explorer = make(dpi=np.int64(20))
    assert explorer.frames()


def test_static_script_prefers_its_own_container_for_repeated_explorers():
    # Shown twice on one page, an explorer's id appears twice; each script must drive
    # the container it sits in (document.currentScript), falling back to the id.
    text = make().to_html()
    (script,) = Page(text).scripts
    assert "document.currentScript" in script
    assert script.index("currentScript") < script.index("getElementById")


def test_widget_redraws_inside_its_output_area(monkeypatch):
    # Each redraw must display into the Output widget (one figure updated in
    # place), not into the cell's own output.
    inside = []
    depth = {"n": 0}
    enter, exit_ = ipywidgets.Output.__enter__, ipywidgets.Output.__exit__

    def fake_enter(self):
        depth["n"] += 1
        return enter(self)

    def fake_exit(self, *args):
        depth["n"] -= 1
        return exit_(self, *args)

    monkeypatch.setattr(ipywidgets.Output, "__enter__", fake_enter)
    monkeypatch.setattr(ipywidgets.Output, "__exit__", fake_exit)
    monkeypatch.setattr(
        IPython.display, "display", lambda obj: inside.append(depth["n"] > 0)
    )
    explorer = make()
    box = explorer.widget()
    controls_of(box)["a"].value = PARAMS["a"][-1]
    assert len(inside) == 2 and all(inside)


# -- page budget, static=False, playback -----------------------------------------------
def noisy_draw(fig, a, b=None):
    """Random pixels compress badly: a frame of about 20 kB at dpi 100, 1 inch."""
    rng = np.random.default_rng(a)
    fig.add_subplot().imshow(rng.random((100, 100, 3)))


def test_frames_over_max_bytes_raise_and_say_how_to_fix():
    explorer = make({"a": [0, 1, 2]}, draw=noisy_draw, dpi=100, max_bytes=30_000)
    with pytest.raises(ValueError, match=r"the 3 frames take 0\.\d+ MB of page, more"):
        explorer.frames()
    roomy = make({"a": [0, 1, 2]}, draw=noisy_draw, dpi=100, max_bytes=10_000_000)
    # every frame, and the first one a second time (the <img> shown before any JS)
    frames = roomy.frames()
    assert roomy.nbytes == sum(len(f) for f in frames) + len(frames[0]) > 30_000
    assert roomy.nbytes <= len(roomy.to_html()) < roomy.nbytes + 20_000
    with pytest.raises(ValueError, match="max_bytes must be an int >= 1"):
        make(max_bytes=0)


def test_default_format_is_webp_and_html_declares_it():
    explorer = gt.explore(Recorder(), PARAMS, figsize=(1, 1), dpi=20)
    assert explorer.format == "webp"
    image = base64.b64decode(explorer.frames()[0])
    assert image[8:12] == b"WEBP"
    (img,) = Page(explorer.to_html()).find("img")
    assert img["src"].startswith("data:image/webp;base64,")
    assert embedded_data(explorer.to_html())["mime"] == "image/webp"
    # lossless: the colour drawn is exactly the colour shown
    assert centre_pixel(image) == colour_of(0, "x")


def test_static_false_renders_only_the_initial_frame():
    draw = Recorder()
    explorer = make(draw=draw, static=False, initial={"a": 1})
    bundle = explorer._repr_mimebundle_()
    assert draw.calls == [{"a": 1, "b": "x"}]
    assert bundle["text/plain"] == "Explorer(a, b; live only, not pre-rendered)"
    page = Page(bundle["text/html"])
    assert page.find("input") == [] and page.scripts == []
    (img,) = page.find("img")
    png = base64.b64decode(img["src"].removeprefix("data:image/png;base64,"))
    assert centre_pixel(png) == colour_of(1, "x")
    assert "static=False" in bundle["text/html"]
    with pytest.raises(TypeError, match="static must be a bool"):
        make(static=1)


def test_live_view_reuses_frames_drawn_for_the_static_view(monkeypatch, displayed):
    monkeypatch.setattr(widgets, "_kernel_with_widgets", lambda: True)
    draw = Recorder()
    explorer = make(draw=draw)
    explorer._repr_mimebundle_()  # static frames + the live widget's first frame
    assert len(draw.calls) == len(COMBOS)  # the live frame was not drawn again
    controls_of(explorer.widget())["a"].value = 2
    controls_of(explorer.widget())["a"].value = 0
    assert len(draw.calls) == len(COMBOS)


def test_render_rejects_values_off_the_grid():
    explorer = make()
    with pytest.raises(ValueError, match=r"values must name every parameter"):
        explorer.render(a=1)
    with pytest.raises(ValueError, match=r"a=7 is not one of \['0', '1', '2'\]"):
        explorer.render(a=7, b="x")


def test_animate_adds_a_play_button_to_its_row_only():
    explorer = make(animate="a", interval_ms=250)
    html_text = explorer.to_html()
    page = Page(html_text)
    (button,) = page.find("button")
    assert button["class"] == "gt-play" and button["aria-pressed"] == "false"
    # the button sits in the animated parameter's row, after its <output>
    first_row = html_text.split("</label>")[0]
    assert 'aria-label="a"' in first_row and 'class="gt-play"' in first_row
    data = embedded_data(html_text)
    assert data["animate"] == 0 and data["interval"] == 250
    (script,) = page.scripts
    # playback steps the animated slider modulo its size and redraws through update()
    assert "inp.value=(parseInt(inp.value)+1)%n;update();" in script
    assert "setInterval(tick,d.interval)" in script and "clearInterval" in script
    with pytest.raises(ValueError, match="animate must be one of 'a', 'b'"):
        make(animate="c")
    with pytest.raises(ValueError, match="interval_ms must be an int >= 50"):
        make(animate="a", interval_ms=10)


def test_animate_live_links_a_play_widget_to_the_slider(monkeypatch, displayed):
    links = []
    real_jslink = ipywidgets.jslink
    monkeypatch.setattr(
        ipywidgets, "jslink", lambda a, b: links.append((a, b)) or real_jslink(a, b)
    )
    explorer = make(
        {"step": [0, 10, 20], "b": ["x", "y"]},
        animate="b",
        draw=lambda fig, step, b: None,
    )
    box = explorer.widget()
    (row,) = [c for c in box.children if isinstance(c, ipywidgets.HBox)]
    slider, play = row.children
    # a non-numeric animation axis still gets a slider, so that play can step it
    assert isinstance(slider, ipywidgets.SelectionSlider) and slider.description == "b"
    assert isinstance(play, ipywidgets.Play)
    assert (play.min, play.max, play.value, play.interval) == (0, 1, 0, 600)
    # linked in the browser, play's value to the slider's index
    assert links == [((play, "value"), (slider, "index"))]


def test_grid_values_are_found_by_identity_rounding_and_type():
    arrays = [np.array([1, 2]), np.array([3, 4])]
    seen = []
    explorer = make(
        {"w": arrays, "t": np.linspace(0, 0.9, 4)},
        draw=lambda fig, w, t: seen.append((w, t)),
    )
    assert len(explorer.frames()) == 8  # arrays as values: no ambiguous truth
    assert all(any(w is a for a in arrays) for w, _ in seen)
    # 0.3 finds linspace's 0.30000000000000004; draw receives the grid's value
    moved = make({"t": np.linspace(0, 0.9, 4)}, initial={"t": 0.3})
    assert moved.initial["t"] == np.linspace(0, 0.9, 4)[1]
    with pytest.raises(ValueError, match=r"initial\['k'\]=True is not one of"):
        make({"k": [1, 2]}, initial={"k": True})
    with pytest.raises(TypeError, match="animate must be a str or None"):
        make(animate=1)


def test_live_play_loops_like_the_website(displayed):
    explorer = make(animate="a")
    (row,) = [c for c in explorer.widget().children if isinstance(c, ipywidgets.HBox)]
    play = row.children[1]
    traits = play.trait_names()
    assert getattr(play, "repeat" if "repeat" in traits else "_repeat") is True


def test_live_view_with_webp_frames_draws_each_shown_png_once(monkeypatch, displayed):
    # static frames are WebP, the live view shows PNGs: one more draw per
    # setting shown live, and none when a setting comes back
    monkeypatch.setattr(widgets, "_kernel_with_widgets", lambda: True)
    draw = Recorder()
    explorer = widgets.Explorer(draw, PARAMS, figsize=(1, 1), dpi=20)
    explorer._repr_mimebundle_()
    assert len(draw.calls) == len(COMBOS) + 1
    slider = controls_of(explorer.widget())["a"]
    slider.value = 2
    slider.value = 0
    assert len(draw.calls) == len(COMBOS) + 2
