"""What Linux says of memory, from /proc: what the system can still give, and this process's size.

Each answer is None where the file or its field is missing (another system, a container that
hides it), so callers say "unknown" rather than guess.
"""

from __future__ import annotations

MEMINFO = "/proc/meminfo"
SELF_STATUS = "/proc/self/status"


def proc_sizes(path: str) -> dict[str, int]:
    """Every ``Name:  N kB`` (or plain ``N``) line of a /proc file, as bytes (or the plain number)."""
    values: dict[str, int] = {}
    try:
        with open(path) as info:
            for line in info:
                key, _, rest = line.partition(":")
                number = rest.split()
                if number and number[0].isdigit():
                    values[key] = int(number[0]) * (1024 if rest.strip().endswith("kB") else 1)
    except OSError:
        pass
    return values


def meminfo() -> dict[str, int]:
    """The system's memory figures (MemTotal, MemAvailable, ...), in bytes."""
    return proc_sizes(MEMINFO)


def available_memory() -> int | None:
    """Bytes the system can still give this process (MemAvailable)."""
    return meminfo().get("MemAvailable")


def address_space() -> int | None:
    """This process's virtual memory size in bytes (VmSize)."""
    return proc_sizes(SELF_STATUS).get("VmSize")
