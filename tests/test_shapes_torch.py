"""Property tests: cnncalc's shape arithmetic agrees with torch's.

Each example is a one-layer spec loaded with ``cnncalc.loads`` and analysed (the whole
path: YAML, argument validation, expansion, shape inference) next to the same layer
built in plain torch and run on a zero tensor.  If torch produces an output, cnncalc
gives the same shape; if torch raises, cnncalc raises a CnncalcError.

Example counts are small (CI runs ~1,500 in total); ``HYPOTHESIS_PROFILE=long`` raises
them to the profile's count for a thorough local search.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
torch.set_num_threads(1)


def examples(n: int) -> settings:
    """``n`` examples, or the loaded profile's count when it asks for more (long runs)."""
    return settings(max_examples=max(n, settings.default.max_examples if
                                     settings.default.max_examples > 100 else 0), deadline=None)


# ------------------------------------------------------------------------- harness
def cnncalc_shape(x: tuple[int, ...], layer: dict[str, Any]) -> tuple[int, ...]:
    text = (f"cnncalc: 1\ninput: {json.dumps(list(x))}\n"
            f"layers:\n  - {json.dumps(layer)}\n")
    return cnncalc.analyze(cnncalc.loads(text)).output_shape


def torch_shape(x: tuple[int, ...], build: Callable[[], Any]) -> tuple[int, ...] | None:
    """The output shape without the batch axis, or None if torch refuses (building the
    module or running it)."""
    try:
        with torch.no_grad():
            y = build()(torch.zeros(1, *x))
    except (RuntimeError, ValueError, NotImplementedError):
        return None
    return None if y.numel() == 0 else tuple(y.shape[1:])


def agree(x: tuple[int, ...], layer: dict[str, Any], build: Callable[[], Any],
          expected: tuple[int, ...] | None = None) -> None:
    want = torch_shape(x, build)
    if want is None:
        with pytest.raises(CnncalcError):
            cnncalc_shape(x, layer)
        return
    assert cnncalc_shape(x, layer) == want, (x, layer)
    if expected is not None:
        assert want == expected


def axes(r: int, v: int | list[int]) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, list) else (v,) * r


# ---------------------------------------------------------------------- strategies
def per_axis(r: int, lo: int, hi: int) -> st.SearchStrategy:
    """An int (broadcast) or one value per axis."""
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=r, max_size=r))


@st.composite
def input_shape(draw: Any, c: int | None = None) -> tuple[int, ...]:
    r = draw(st.integers(1, 3))
    hi = {1: 14, 2: 10, 3: 6}[r]
    n = draw(st.lists(st.integers(1, hi), min_size=r, max_size=r))
    return (c if c is not None else draw(st.integers(1, 4)), *n)


def padding(r: int) -> st.SearchStrategy:
    pair = st.lists(st.integers(0, 3), min_size=2, max_size=2)
    return st.one_of(per_axis(r, 0, 3), st.lists(pair, min_size=r, max_size=r),
                     st.sampled_from(["same", "same_upper", "same_lower", "valid"]))


def _cls(kind: str, r: int) -> Any:
    return getattr(nn, f"{kind}{r}d")


def _fpad(pairs: list[list[int]]) -> tuple[int, ...]:
    """[before, after] per axis -> F.pad's order (last axis first)."""
    return tuple(v for pair in reversed(pairs) for v in pair)


# ---------------------------------------------------------------------- conv
@examples(400)
@given(data=st.data())
def test_conv(data: Any) -> None:
    groups = data.draw(st.sampled_from([1, 1, 2, 3]))
    fits = data.draw(st.booleans())
    c = groups * data.draw(st.integers(1, 2)) if fits else data.draw(st.integers(1, 4))
    out = groups * data.draw(st.integers(1, 2)) if fits else data.draw(st.integers(1, 4))
    x = data.draw(input_shape(c))
    r = len(x) - 1
    k, s, d = (data.draw(per_axis(r, *lim)) for lim in ((1, 5), (1, 3), (1, 3)))
    pad = data.draw(padding(r))
    bias = data.draw(st.booleans())
    layer = {"op": "conv", "out": out, "k": k, "stride": s, "pad": pad, "dilation": d,
             "groups": groups, "bias": bias}
    ks, ss, ds = axes(r, k), axes(r, s), axes(r, d)
    kw = dict(stride=ss, dilation=ds, groups=groups, bias=bias)
    expected = None
    if isinstance(pad, str) and pad.startswith("same") and any(v > 1 for v in ss):
        # torch's padding='same' needs stride 1: pad explicitly (TF's rule; the split does not
        # change the shape), and the output must be ceil(n / stride)
        pairs = []
        for n, kk, st_, dd in zip(x[1:], ks, ss, ds):
            total = max((math.ceil(n / st_) - 1) * st_ + dd * (kk - 1) + 1 - n, 0)
            pairs.append([total - total // 2, total // 2])
        fn = lambda: lambda t: _cls("Conv", r)(c, out, ks, **kw)(F.pad(t, _fpad(pairs)))  # noqa: E731
        expected = (out, *(math.ceil(n / st_) for n, st_ in zip(x[1:], ss)))
    elif isinstance(pad, str):  # torch's 'same' (the split does not change the shape)
        torch_pad = "same" if pad.startswith("same") else pad
        fn = lambda: _cls("Conv", r)(c, out, ks, padding=torch_pad, **kw)  # noqa: E731
    elif isinstance(pad, list) and isinstance(pad[0], list):
        fn = lambda: lambda t: _cls("Conv", r)(c, out, ks, **kw)(F.pad(t, _fpad(pad)))  # noqa: E731
    else:
        fn = lambda: _cls("Conv", r)(c, out, ks, padding=axes(r, pad), **kw)  # noqa: E731
    agree(x, layer, fn, expected)


@examples(300)
@given(data=st.data())
def test_conv_transpose(data: Any) -> None:
    groups = data.draw(st.sampled_from([1, 1, 2]))
    c = groups * data.draw(st.integers(1, 2))
    out = groups * data.draw(st.integers(1, 2)) if data.draw(st.booleans()) else 3
    x = data.draw(input_shape(c))
    r = len(x) - 1
    k, s, p, op, d = (data.draw(per_axis(r, *lim))
                      for lim in ((1, 4), (1, 3), (0, 3), (0, 2), (1, 2)))
    layer = {"op": "conv_transpose", "out": out, "k": k, "stride": s, "pad": p,
             "output_padding": op, "dilation": d, "groups": groups}
    fn = lambda: _cls("ConvTranspose", r)(  # noqa: E731
        c, out, axes(r, k), axes(r, s), axes(r, p), axes(r, op), groups, True, axes(r, d))
    agree(x, layer, fn)


# ---------------------------------------------------------------------- pools
@examples(300)
@given(data=st.data())
def test_maxpool(data: Any) -> None:
    x = data.draw(input_shape())
    r = len(x) - 1
    k, p, d = (data.draw(per_axis(r, *lim)) for lim in ((1, 4), (0, 2), (1, 3)))
    s = data.draw(st.one_of(st.none(), per_axis(r, 1, 3)))
    ceil = data.draw(st.booleans())
    layer = {"op": "maxpool", "k": k, "pad": p, "dilation": d, "ceil_mode": ceil}
    if s is not None:
        layer["stride"] = s
    fn = lambda: _cls("MaxPool", r)(axes(r, k), None if s is None else axes(r, s),  # noqa: E731
                                    axes(r, p), axes(r, d), ceil_mode=ceil)
    agree(x, layer, fn)


@examples(300)
@given(data=st.data())
def test_avgpool(data: Any) -> None:
    x = data.draw(input_shape())
    r = len(x) - 1
    k, p = data.draw(per_axis(r, 1, 4)), data.draw(per_axis(r, 0, 2))
    s = data.draw(st.one_of(st.none(), per_axis(r, 1, 3)))
    ceil = data.draw(st.booleans())
    layer = {"op": "avgpool", "k": k, "pad": p, "ceil_mode": ceil}
    if s is not None:
        layer["stride"] = s
    fn = lambda: _cls("AvgPool", r)(axes(r, k), None if s is None else axes(r, s),  # noqa: E731
                                    axes(r, p), ceil_mode=ceil)
    agree(x, layer, fn)


@examples(100)
@given(x=input_shape(), kind=st.sampled_from(["maxpool", "avgpool"]))
def test_global_pool(x: tuple[int, ...], kind: str) -> None:
    r = len(x) - 1
    pool = _cls("AdaptiveMaxPool" if kind == "maxpool" else "AdaptiveAvgPool", r)(1)
    agree(x, {"op": kind, "global": True}, lambda: pool, expected=(x[0],) + (1,) * r)


@examples(200)
@given(data=st.data())
def test_adaptive_pools(data: Any) -> None:
    x = data.draw(input_shape())
    r = len(x) - 1
    size = data.draw(per_axis(r, 1, 10))
    kind = data.draw(st.sampled_from(["avg", "max"]))
    fn = lambda: _cls(f"Adaptive{kind.title()}Pool", r)(axes(r, size))  # noqa: E731
    agree(x, {"op": f"adaptive_{kind}pool", "size": size}, fn, expected=(x[0], *axes(r, size)))


# ---------------------------------------------------------------------- reshaping
@examples(200)
@given(data=st.data())
def test_upsample(data: Any) -> None:
    x = data.draw(input_shape())
    r = len(x) - 1
    mode = data.draw(st.sampled_from(["nearest", "linear", "bilinear", "trilinear"]))
    align = mode != "nearest" and data.draw(st.booleans())
    layer: dict[str, Any] = {"op": "upsample", "mode": mode}
    if align:
        layer["align_corners"] = True
    kw: dict[str, Any] = {"mode": mode, "align_corners": True if align else None}
    if data.draw(st.booleans()):
        scale = data.draw(per_axis(r, 1, 3))
        layer["scale"] = scale
        kw["scale_factor"] = tuple(float(v) for v in axes(r, scale))
    else:
        size = data.draw(per_axis(r, 1, 9))
        layer["size"] = size
        kw["size"] = axes(r, size)
    agree(x, layer, lambda: nn.Upsample(**kw))


@examples(100)
@given(data=st.data())
def test_zeropad(data: Any) -> None:
    x = data.draw(input_shape())
    r = len(x) - 1
    pad = data.draw(st.one_of(per_axis(r, 0, 3), st.lists(
        st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=r, max_size=r)))
    pairs = pad if isinstance(pad, list) and isinstance(pad[0], list) else [
        [p, p] for p in axes(r, pad)]
    agree(x, {"op": "zeropad", "pad": pad}, lambda: lambda t: F.pad(t, _fpad(pairs)))
