"""The registry resolves names, lists kinds, and survives a broken plugin."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from xiezhi.registry import Registry, registry
from xiezhi.types import XiezhiError


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(XiezhiError, match="known judges: .*refusal"):
        registry.get("judge", "nope")


def test_broken_plugin_module_warns_and_rest_works(caplog: pytest.LogCaptureFixture) -> None:
    good = types.ModuleType("xz_good_plugin")
    reg = Registry(builtin_modules=("xz_broken_plugin", "xz_good_plugin"), entry_point_group=None)

    def install_good() -> None:
        reg.add("judge", "good", lambda: "ok")

    good.__dict__["install"] = install_good
    broken = types.ModuleType("xz_broken_plugin")
    sys.modules["xz_good_plugin"] = good
    # a module that raises on import: simulate with a finder-less name that fails
    sys.modules.pop("xz_broken_plugin", None)

    class Boom(Exception):
        pass

    class Finder:
        def find_module(self, name, path=None):  # pragma: no cover - legacy API
            return None

        def find_spec(self, name, path=None, target=None):
            if name == "xz_broken_plugin":
                raise Boom("syntax error in plugin")
            return None

    sys.meta_path.insert(0, Finder())
    try:
        install_good()
        with caplog.at_level(logging.WARNING):
            names = reg.names("judge")
    finally:
        sys.meta_path.pop(0)
        del broken
    assert names == ["good"]
    assert "xz_broken_plugin" in reg.failed
    assert any("xz_broken_plugin" in r.getMessage() for r in caplog.records)


def test_decorator_records_name() -> None:
    reg = Registry(builtin_modules=(), entry_point_group=None)

    @reg.register("mutator", "shout", languages=("en",))
    class Shout:
        pass

    entry = reg.get("mutator", "shout")
    assert entry.factory is Shout and entry.meta == {"languages": ("en",)}
    assert Shout.plugin_name == "shout"  # type: ignore[attr-defined]
