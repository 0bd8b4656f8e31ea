"""chainrule against PyTorch eager and hand-written NumPy, side by side.

Run from the repository root::

    python -m benchmarks            # the full table (a few minutes on 2 cores)
    python -m benchmarks --quick    # fewer rounds, N up to 1e4 for the deep chain
    python -m benchmarks --json     # one JSON document for machines

Workloads (float32, every engine from the same initial arrays; see :mod:`benchmarks.workloads`):

- A: the seed step, the 4-3-1 network forward and the gradients of W1 and W2;
- B: an MLP training step, 784-256-256-10, ReLU, softmax cross-entropy, batch 128, SGD;
- C: a deep chain of N steps ``x = x * 1.0001 + 0.0001`` on 16 values, sum, backward; the cost
  is reported per step, for N = 1e3, 1e4 and 1e5;
- D: a 2-16-16-1 ReLU network on 100 points, hinge loss plus L2, one SGD step.

Method: each engine's first step must agree with chainrule's before anything is timed; then the
engines run in interleaved rounds (the order rotates), after warm-up, and the median over rounds
is reported, with the ratios chainrule/torch and chainrule/hand-written NumPy. PyTorch gets as
many intra-op threads as NumPy's BLAS (``torch.set_num_threads``). Outside the loop:
``import chainrule`` and ``chainrule demo`` in fresh interpreters (medians), peak RSS of B per
engine in separate processes, the time to explain one weight of a 784-256-10 MLP, and the deep
chain again in a process without PyTorch, with Python's cycle collector on and off
(:mod:`benchmarks.chain_alone`: how much of C's growth with N the collector causes).

The environment is reported, not changed: where ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are
set (on some processors, for older OpenBLAS builds) they slow a current NumPy; to benchmark
without them unset both for that command alone
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks``) and check the kernel the
report names. The machine is shared and noisy: compare ratios from one run, not absolute times.
"""
