"""What the Python benchmark scripts share: the machine line and their marked section of
docs/benchmarks.md (each script owns one section and keeps the others)."""
import os
import platform
import re


def machine(load_start, load_end):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    return (f"- Machine: {cpu}, {os.cpu_count()} cores; load average {' '.join(load_start)} "
            f"before, {' '.join(load_end)} after (a load above 2 means other work shared the "
            "cores)")


def load_average():
    return open("/proc/loadavg").read().split()[:3]


def write_section(docs, script, lines):
    """Replaces (or appends) the section of `docs` between the markers naming `script`."""
    begin = f"<!-- BEGIN scripts/bench/{script}: generated, do not edit by hand; rerun the script -->"
    end = f"<!-- END scripts/bench/{script} -->"
    section = "\n".join([begin, *lines, "", end, ""])
    old = open(docs).read() if os.path.exists(docs) else "# Benchmarks\n"
    mine = re.compile(rf"^<!-- BEGIN scripts/bench/{script}:.*?^{re.escape(end)}\n?", re.S | re.M)
    doc = mine.sub(lambda _: section, old) if mine.search(old) else old.rstrip("\n") + "\n\n" + section
    with open(docs, "w") as f:
        f.write(doc)
