"""The registered search channels, in ``position`` order (then registration order)."""

from __future__ import annotations

from .base import Channel

_CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Add ``channel`` (an instance); a name already registered is an error."""
    if not channel.name:
        raise ValueError(f"{type(channel).__name__} has no name")
    if channel.name in _CHANNELS:
        raise ValueError(f"a channel named {channel.name!r} is already registered")
    _CHANNELS[channel.name] = channel
    return channel


def unregister(name: str) -> None:
    """Remove the channel ``name`` (tests registering their own)."""
    _CHANNELS.pop(name, None)


def channels() -> list[Channel]:
    """Every registered channel, in the order ``channel_hits`` lists them."""
    return sorted(_CHANNELS.values(), key=lambda c: c.position)


def names() -> tuple[str, ...]:
    """The registered channels' names, in order."""
    return tuple(c.name for c in channels())


def channel(name: str) -> Channel:
    """The channel ``name``; KeyError naming the known ones otherwise."""
    try:
        return _CHANNELS[name]
    except KeyError:
        raise KeyError(f"unknown channel {name!r} (known: {', '.join(names())})") from None
