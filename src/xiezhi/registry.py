"""One registry for every plugin kind; names users type resolve here.

Plugins register with a decorator::

    @register("mutator", "passivize", languages=("en", "zh"))
    class Passivize: ...

Built-in plugins live in the modules listed in `BUILTIN_MODULES` and are imported on
first lookup (lazily, so `import xiezhi` stays light). Third-party packages add theirs
through the entry-point group ``xiezhi.plugins``: each entry point names a module (or a
callable taking the registry). A plugin that fails to import logs a warning; the rest
keeps working.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar

from xiezhi.types import XiezhiError

log = logging.getLogger("xiezhi.registry")

Kind = Literal[
    "target", "probe", "mutator", "strategy", "attack", "judge", "scanner", "policy", "report", "loader"
]
KINDS: tuple[Kind, ...] = (
    "target", "probe", "mutator", "strategy", "attack", "judge", "scanner", "policy", "report", "loader"
)

ENTRY_POINT_GROUP = "xiezhi.plugins"

# Modules that register the built-in plugins. A module missing here is simply skipped
# (with a warning), so parts of the tree can land independently.
BUILTIN_MODULES: tuple[str, ...] = (
    "xiezhi.targets",
    "xiezhi.judges",
    "xiezhi.probes",
    "xiezhi.mutators",
    "xiezhi.strategies",
    "xiezhi.attacks",
    "xiezhi.guard.scanners",
    "xiezhi.data.loaders",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """A registered plugin: its kind, name, factory and declared metadata."""

    kind: Kind
    name: str
    factory: Callable[..., Any]
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Maps (kind, name) to plugin factories."""

    def __init__(self, builtin_modules: tuple[str, ...] = BUILTIN_MODULES, entry_point_group: str | None =
                 ENTRY_POINT_GROUP) -> None:
        self._entries: dict[Kind, dict[str, Entry]] = {k: {} for k in KINDS}
        self._builtin_modules = builtin_modules
        self._entry_point_group = entry_point_group
        self._loaded = False
        self.failed: dict[str, str] = {}

    # registration -----------------------------------------------------------------
    def add(self, kind: Kind, name: str, factory: Callable[..., Any], description: str = "",
            **meta: Any) -> None:
        if kind not in self._entries:
            raise ValueError(f"unknown plugin kind {kind!r}; kinds are {', '.join(KINDS)}")
        desc = description or (factory.__doc__ or "").strip().split("\n")[0]
        self._entries[kind][name] = Entry(kind, name, factory, desc, dict(meta))

    def register(self, kind: Kind, name: str, description: str = "", **meta: Any) -> Callable[[T], T]:
        """Decorator: register a class or factory function under `name`."""

        def deco(obj: T) -> T:
            self.add(kind, name, obj, description, **meta)  # type: ignore[arg-type]
            try:
                obj.plugin_name = name  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass
            return obj

        return deco

    # loading ----------------------------------------------------------------------
    def load(self) -> None:
        """Import built-in plugin modules and entry points once."""
        if self._loaded:
            return
        self._loaded = True
        for mod in self._builtin_modules:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as e:
                if e.name == mod:
                    continue  # that part of the tree is not there (yet)
                self._fail(mod, e)
            except Exception as e:
                self._fail(mod, e)
        if self._entry_point_group:
            for ep in entry_points(group=self._entry_point_group):
                try:
                    obj = ep.load()
                    if callable(obj) and not isinstance(obj, type):
                        obj(self)
                except Exception as e:
                    self._fail(f"entry point {ep.name} ({ep.value})", e)

    def _fail(self, what: str, e: BaseException) -> None:
        self.failed[what] = f"{type(e).__name__}: {e}"
        log.warning("xiezhi: plugin %s failed to load and is skipped: %s: %s", what, type(e).__name__, e)

    # lookup -----------------------------------------------------------------------
    def names(self, kind: Kind) -> list[str]:
        self.load()
        return sorted(self._entries[kind])

    def entries(self, kind: Kind) -> Iterator[Entry]:
        self.load()
        for name in sorted(self._entries[kind]):
            yield self._entries[kind][name]

    def get(self, kind: Kind, name: str) -> Entry:
        self.load()
        try:
            return self._entries[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._entries[kind])) or "none"
            raise XiezhiError(f"unknown {kind} {name!r}; known {kind}s: {known}") from None

    def create(self, kind: Kind, name: str, *args: Any, **kwargs: Any) -> Any:
        """Instantiate the plugin `name` of `kind` with the given arguments."""
        return self.get(kind, name).factory(*args, **kwargs)


registry = Registry()
"""The process-wide plugin table (the one piece of shared state: a read-mostly catalogue)."""

register = registry.register
