"""Where a page's time goes under load: CPU per request of gunicorn's workers, PostgreSQL and wrk.

    .venv/bin/python bench/cpu_split.py [--database postgresql|sqlite] [--scale 1] [--seconds 5] [page ...]

bench/pages.py gives each page's ratio to the floor; this says what the requests cost, whoever
spends it. On one machine every process shares the same cores, so what PostgreSQL spends on a
page's statement, or the load tool on reading its answer, is time the web workers do not get.
For each page (the names of bench/pages.py; all of them by default) it runs wrk against
gunicorn, as bench/pages.py does, and reads the CPU time each process used from /proc (Linux):
the workers (children of gunicorn's master), every `postgres` process on the machine (so run it
when nothing else uses that server), and wrk itself (its rusage, once it has ended).
"""

import argparse
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import OUT, free_port, generated, gunicorn, log_in, pages, people, settings, wrk  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds used) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()  # from the state, the third field, on
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def cpu_by_group(master: int | None = None) -> dict[str, dict[str, float]]:
    """CPU seconds so far of gunicorn's workers (the children of `master`, if given) and of
    PostgreSQL's processes, by pid."""
    groups: dict[str, dict[str, float]] = {"workers": {}, "postgresql": {}}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        found = _stat(pid)
        if found is None:
            continue
        name, parent, seconds = found
        if parent == master:
            groups["workers"][pid] = seconds
        elif name.startswith("postgres"):
            groups["postgresql"][pid] = seconds
    return groups


def spent(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU seconds used between two readings by the processes of the second (new ones from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children (each wrk run, once over;
    gunicorn, still running, is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("pages", nargs="*", help="page names as bench/pages.py prints them (the floor is always run)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    url, fixture = generated(args.database, args.scale)
    port = free_port()
    chosen = [page for page in pages(fixture) if page[0].startswith("floor") or not args.pages or page[0] in args.pages]
    print(f"{args.database}, scale {args.scale}x: milliseconds of CPU per request (wrk {args.seconds} s, "
          f"{args.connections} connections, 2 gunicorn workers)")
    print(f"{'page':<28} {'req/s':>7} {'workers':>8} {'postgres':>9} {'wrk':>6} {'total':>7}  x floor")
    floor = None
    with gunicorn(settings(url, port, "lien-cpu-split", "memory://"), port, 2, OUT / "gunicorn-cpu-split.log") as server:
        cookies = {"nobody": ""} | {who: log_in(port, email) for who, email in people(fixture).items()}
        for name, who, address, _status in chosen:
            wrk(port, address, cookies[who], 1, args.connections)  # warm: kept values, fragments, plans
            before, wrk_before = cpu_by_group(server.pid), children_cpu()
            figures = wrk(port, address, cookies[who], args.seconds, args.connections)
            after, wrk_after = cpu_by_group(server.pid), children_cpu()
            requests = figures["requests"]
            costs = {group: spent(before[group], after[group]) / requests * 1e3 for group in after}
            costs["wrk"] = (wrk_after - wrk_before) / requests * 1e3
            total = sum(costs.values())
            floor = floor or total
            print(f"{name:<28} {figures['rps']:7.0f} {costs['workers']:8.3f} {costs['postgresql']:9.3f} "
                  f"{costs['wrk']:6.3f} {total:7.3f}  {total / floor:5.2f}", flush=True)


if __name__ == "__main__":
    main()
