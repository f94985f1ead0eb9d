"""The search channels: one module each, found and registered on import.

``registry.channels()`` lists them in their ``position`` order; ``registry.names()`` is
the tuple of channel names the settings, the fusion and the evaluation accept. A new
channel is one new module here defining a :class:`~retrieval.channels.base.Channel`
subclass and calling ``register`` on an instance (see ``popularity.py`` for a small one).
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Channel, Hit, Search
from .registry import channel, channels, names, register, unregister

__all__ = ["Channel", "Hit", "Search", "channel", "channels", "names", "register", "unregister"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "registry"):
        importlib.import_module(f"{__name__}.{_module.name}")
