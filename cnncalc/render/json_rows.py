"""The ``layers`` array of ``--format json``, a chunk of rows at a time.

A row is the dict :func:`views.layer_dict` makes of a layer (``LayerReport.to_dict``,
the contract), and its text is ``json.dumps(row, indent=2)`` nested two deep.  Made row
by row, the dicts and their encoding cost more than the analysis at 10^5 layers, so a
chunk's rows are written a field at a time instead: each key of ``to_dict`` is an
attribute of the layer, made JSON by type (an object with ``to_dict`` by it, a mapping
as a dict, the rest as it is: :func:`jsonable`).  A field's values are read by ``map``
over the chunk and turned into text a column at a time (:class:`FieldTexts`): ints by
``str``, strings by json's C escaper, flat lists by json's C encoder, dicts (and
``to_dict`` objects) field by field again, and every other value once per distinct
value (shapes, receptive fields and FLOPs breakdowns repeat down a column); each row is
then its template filled in (``template % fields``).  The first row of every chunk is
checked against its own dict encoded as ever; should they differ (a field that
``to_dict`` makes otherwise), the chunk is written from the dicts.

Equal values of one field share a text: a field's values are of one type (a dataclass
field), so equal ones are written alike.

>>> import cnncalc
>>> from cnncalc.render import text, views
>>> report = cnncalc.analyze(cnncalc.load("resnet18"))
>>> rows = LayerRows.of(report, views.VIEWS["summary"], 2)
>>> rows.texts(report.layers) == [text.encode_indented(layer.to_dict(), 2)
...                               for layer in report.layers]
True
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from typing import Any

from ..report import LayerReport, Report
from .text import _ENC_STR, SCALARS, encode_indented, flat_list_texts, indent_text
from .views import View, layer_dict

#: distinct values a field remembers; emptied when full, so memory stays bounded
FIELD_CACHE = 4096
_NONE = type(None)
_NUMBERS = frozenset({bool, int, float})
_SEQUENCES = frozenset({list, tuple})
_items = operator.methodcaller("items")
_to_dict = operator.methodcaller("to_dict")


def jsonable(value: Any) -> Any:
    """A layer's attribute as its row in ``to_dict`` holds it."""
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    return dict(value) if isinstance(value, Mapping) else value


def _grouped(values: Sequence[Any], groups: Sequence[Any],
             make: Callable[[Any, Sequence[Any]], list[str]]) -> list[str]:
    """The texts of ``values``, each group of them (``groups``: a value's group, e.g. its
    type) made together by ``make(group, its values)``, in the values' order."""
    distinct = set(groups)
    if len(distinct) == 1:
        return make(distinct.pop(), values)
    where: dict[Any, list[int]] = {}
    for i, group in enumerate(groups):
        where.setdefault(group, []).append(i)
    texts = [""] * len(values)
    for group, at in where.items():
        for i, text in zip(at, make(group, [values[i] for i in at])):
            texts[i] = text
    return texts


def template(keys: Sequence[str], level: int, specs: Sequence[str]) -> str:
    """The text of a dict with ``keys`` nested ``level`` deep, each value's ``%`` spec
    (``%s`` for its text, ``%d`` for an int) where the value goes."""
    inner = indent_text(level + 1)
    fields = [_ENC_STR(key).replace("%", "%%") + ": " + spec for key, spec in zip(keys, specs)]
    return "{" + inner + ("," + inner).join(fields) + indent_text(level) + "}"


class Fields:
    """Texts of dicts (or objects) with the same keys, nested ``level`` deep, made a
    field at a time: ``get(key)`` reads a key's value of one of them."""

    def __init__(self, keys: Sequence[str], level: int,
                 get: Callable[[str], Callable[[Any], Any]]) -> None:
        self.keys, self.level = list(keys), level
        self.get = get(*keys) if keys else None  # (for several keys: a tuple of values)
        self.fields = [FieldTexts(level + 1) for _ in keys]
        self.templates: dict[tuple[str, ...], str] = {}

    def texts(self, items: Sequence[Any]) -> list[str]:
        if self.get is None:
            return ["{}"] * len(items)
        values = ([list(map(self.get, items))] if len(self.keys) == 1
                  else list(zip(*map(self.get, items))))
        specs, columns = zip(*[field.fill(column)
                               for field, column in zip(self.fields, values)])
        try:
            return list(map(self._template(specs).__mod__, zip(*columns)))
        except ValueError:  # an int past the int-to-text digit limit: each as its text
            columns = tuple(column if spec == "%s" else field.made(column)
                            for field, spec, column in zip(self.fields, specs, columns))
            return list(map(self._template(("%s",) * len(specs)).__mod__, zip(*columns)))

    def _template(self, specs: tuple[str, ...]) -> str:
        made = self.templates.get(specs)
        if made is None:
            made = self.templates[specs] = template(self.keys, self.level, specs)
        return made


class FieldTexts:
    """One field's texts of a chunk of values (:meth:`texts`), nested ``level`` deep."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.known: dict[Any, str] = {}
        #: the values remembered by their identity or items, kept so their keys stay theirs
        self.alive: list[Any] = []
        self.dicts: dict[tuple[str, ...], Fields] = {}

    def fill(self, values: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        """What fills the field in its dict's template: ``("%d", values)`` for ints (a
        ``%`` format writes them, with no text made first), else ``("%s", texts)``."""
        types = set(map(type, values))
        if types == {int}:
            return "%d", values
        return "%s", self.texts(values, types)

    def texts(self, values: Sequence[Any], types: set[type] | None = None) -> list[str]:
        types = set(map(type, values)) if types is None else types
        if types == {int}:
            try:
                return list(map(str, values))
            except ValueError:  # past the int-to-text digit limit
                pass
        elif types == {str}:
            return list(map(_ENC_STR, values))
        if len(types & _NUMBERS) > 1:  # equal keys of other types (1, 1.0, True)
            return self.made(values)
        try:
            keys = self._keys(values, types)
            firsts = dict(zip(keys, values)) if keys is not None else {}
        except TypeError:  # unhashable values
            return self.made(values)
        if keys is None:
            return self.made(values)
        if len(firsts) * 2 > len(values):  # mostly distinct (ids, inputs): not remembered
            return self.made(values)
        new = [key for key in firsts if key not in self.known]
        if len(self.known) + len(new) > FIELD_CACHE:
            self.known.clear()
            self.alive.clear()
            new = list(firsts)
        if len(new) > FIELD_CACHE:
            return self.made(values)
        made = [firsts[key] for key in new]
        self.known.update(zip(new, self.made(made)))
        if keys is not values:
            self.alive += made
        return list(map(self.known.__getitem__, keys))

    def _keys(self, values: Sequence[Any], types: set[type]) -> Sequence[Any] | None:
        """What a value is remembered by: a mapping by its items; an object with
        ``to_dict`` (a receptive field, shared by the layers that do not change it) by
        its identity, cheaper than its dataclass hash (:attr:`alive` holds the objects,
        so no other takes their ids); a list as a tuple; anything else by itself.  None
        (not remembered) for sequences holding numbers of more than one type, whose
        equal tuples (``(1,)``, ``(1.0,)``, ``(True,)``) are not written alike."""
        if any(hasattr(t, "to_dict") for t in types):
            return list(map(id, values))
        if all(issubclass(t, Mapping) for t in types):
            return list(map(tuple, map(_items, values)))
        if types <= _SEQUENCES:  # a list as a tuple (JSON writes both alike)
            if len(_NUMBERS.intersection(map(type, chain.from_iterable(values)))) > 1:
                return None
            return list(map(tuple, values))
        return values

    def made(self, values: Sequence[Any]) -> list[str]:
        """The texts of ``values``, those of a type together."""
        return _grouped(values, list(map(type, values)), self._of_type)

    def _of_type(self, kind: type, values: Sequence[Any]) -> list[str]:
        if kind is _NONE:
            return ["null"] * len(values)
        if kind is int or kind is str:
            return self._each(values)
        if hasattr(kind, "to_dict"):
            return self._dicts(list(map(_to_dict, values)))
        if issubclass(kind, Mapping):
            return self._dicts(values if kind is dict else list(map(dict, values)))
        if kind is list or kind is tuple:
            texts = self._flat_lists(values)
            if texts is not None:
                return texts
        return self._each(values)

    def _flat_lists(self, values: Sequence[Any]) -> list[str] | None:
        """Non-empty lists of scalars (inputs, shapes, a field's sizes) written by json's C
        encoder (:func:`text.flat_list_texts`); None for any other lists."""
        if min(map(len, values)) and SCALARS.issuperset(map(type, chain.from_iterable(values))):
            return flat_list_texts(values, self.level)
        return None

    def _dicts(self, dicts: Sequence[dict[Any, Any]]) -> list[str]:
        """Dicts with string keys field by field, those with the same keys together."""
        return _grouped(dicts, list(map(tuple, dicts)), self._same_keys)

    def _same_keys(self, keys: tuple[Any, ...], dicts: Sequence[dict[Any, Any]]) -> list[str]:
        if not all(type(k) is str for k in keys):
            return self._each(dicts)
        fields = self.dicts.get(keys)
        if fields is None:
            fields = self.dicts[keys] = Fields(keys, self.level, operator.itemgetter)
        return fields.texts(dicts)

    def _each(self, values: Sequence[Any]) -> list[str]:
        return [encode_indented(jsonable(v), self.level) for v in values]


class LayerRows:
    """The texts of a report's layer rows (:meth:`texts`), written a field at a time."""

    def __init__(self, view: View, keys: Sequence[str], level: int) -> None:
        self.view, self.level = view, level
        self.fields = Fields(keys, level, operator.attrgetter)

    @classmethod
    def of(cls, report: Report, view: View, level: int) -> LayerRows:
        """The rows of ``report`` as ``view`` keeps them, nested ``level`` deep; the keys
        are those of the first row's dict."""
        keys = list(layer_dict(report.layers[0], view)) if report.layers else []
        return cls(view, keys, level)

    def texts(self, layers: Sequence[LayerReport]) -> list[str]:
        """The text of each layer's row, in order."""
        if not layers:
            return []
        try:
            texts = self.fields.texts(layers)
        except AttributeError:  # a key that is not an attribute: from the dicts
            return self._from_dicts(layers)
        if texts[0] != self._from_dicts(layers[:1])[0]:
            return self._from_dicts(layers)
        return texts

    def _from_dicts(self, layers: Sequence[LayerReport]) -> list[str]:
        return [encode_indented(layer_dict(layer, self.view), self.level) for layer in layers]
