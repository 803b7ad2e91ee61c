"""Errors a user can cause and fix: the CLI prints them as one line and exits 2."""

from __future__ import annotations


class ArchscopeError(Exception):
    """A problem with what the user asked for (a name, a size, a file), not a bug in archscope."""


class UnknownModelError(ArchscopeError, KeyError):
    """No zoo entry has this name or alias."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class InputSizeError(ArchscopeError, ValueError):
    """An input size that is malformed or that the network cannot take."""
