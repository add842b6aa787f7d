"""Memory of a server's process tree, from /proc: RSS, PSS and USS of the process and all its descendants.

RSS counts a page shared by two processes twice; PSS splits it between them; USS is what each process alone holds
(private pages: what would be freed if it exited). For a pre-fork server, the pages of models loaded before the
fork are shared, so they show in RSS of every worker, in PSS split, and not in USS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProcessMemory:
    pid: int
    ppid: int
    name: str
    rss_mb: float
    pss_mb: float
    uss_mb: float


def _parents() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) of every process now."""
    found: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it has just exited
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (int(fields[1]), name)
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, parents first."""
    parents = _parents()
    tree, queue = [pid], [pid]
    while queue:
        parent = queue.pop(0)
        children = sorted(child for child, (ppid, _) in parents.items() if ppid == parent)
        tree += children
        queue += children
    return tree


def _rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/smaps_rollup."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            values[key] = int(parts[0])
    return values


def tree_memory(pid: int) -> list[ProcessMemory]:
    """Memory of ``pid`` and its descendants, one entry each (processes that exit meanwhile are left out)."""
    parents = _parents()
    found = []
    for member in descendants(pid):
        try:
            values = _rollup(member)
        except (OSError, ValueError):
            continue
        ppid, name = parents.get(member, (0, "?"))
        uss = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
        found.append(
            ProcessMemory(
                pid=member,
                ppid=ppid,
                name=name,
                rss_mb=round(values.get("Rss", 0) / 1024, 1),
                pss_mb=round(values.get("Pss", 0) / 1024, 1),
                uss_mb=round(uss / 1024, 1),
            )
        )
    return found
