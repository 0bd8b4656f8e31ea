"""Peak memory of workload B for one engine: ``python -m benchmarks.rss ENGINE [STEPS]``.

Run in a fresh process so that the other engines' libraries are not loaded: the figure is what
a user of that engine alone pays (the library, its imports and the training step). Prints one
JSON line: peak RSS in MiB after the imports and after the steps.
"""

from __future__ import annotations

import json
import resource
import sys


def _peak_mib() -> float:
    """The high-water mark of this process's resident memory, in MiB.

    NOTE: Linux keeps ``ru_maxrss`` across ``execve``, so a child of a process that has loaded
    PyTorch would report PyTorch's footprint; ``VmHWM`` belongs to the new address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB elsewhere too


def main(argv: list[str]) -> int:
    engine = argv[0]
    steps = int(argv[1]) if len(argv) > 1 else 20
    import numpy as np

    from .workloads import MLP

    if engine == "torch":
        import torch  # noqa: F401  (counted in the figure)

        from .__main__ import match_threads

        match_threads()
    elif engine == "chainrule":
        import chainrule  # noqa: F401
    after_import = _peak_mib()
    step = MLP.builders[engine](MLP.make_inputs(np.random.default_rng(0)))
    for _ in range(steps):
        step()
    print(json.dumps({"engine": engine, "import_mib": round(after_import, 1),
                      "peak_mib": round(_peak_mib(), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
