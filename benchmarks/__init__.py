"""Benchmark suite of the batch-normalization course: ``python -m benchmarks``.

It measures what the Performance page shows, each ratio side by side in one process
(repeats interleaved with the order of the sides rotating, medians after a warm-up,
with min and max):

1. loading all 70,000 Fashion-MNIST images with ``d2l_bn.data.load_arrays()``, warm
   (target: under 1 s) and cold (first call in a fresh process);
2. ``d2l.Trainer`` against a minimal hand-written loop training the chapter's LeNetBN
   (target: Trainer / raw >= 0.95); the raw loop's rate also sets the learner's-wait
   ratio of the Performance page (``_ext/notebook_runs.py``);
3. the chapter's scratch BatchNorm against each framework's own layer, alone and in a
   whole LeNet SGD step (target: the step at most 2x the built-in one's time).

Modules: ``config`` (full and ``--quick`` sizes), ``timing`` (framework-free timing),
``machine`` (what machine), ``data_load``, ``worker`` (one framework per fresh process),
``fw_<module>`` (the same small names per framework), ``summary`` (verdicts) and
``report`` (JSON and markdown). ``NOTES.md`` records one-off investigations whose code
is gone.
"""

SCHEMA = "d2l_bn-benchmarks/3"
