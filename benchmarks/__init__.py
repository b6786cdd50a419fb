"""Benchmark suite of the batch-normalization course: ``python -m benchmarks``.

It measures what backs a target or a claim of the course (each ratio side by side in
one process, repeats interleaved with the order of the sides rotating, medians after a
warm-up, with min and max):

1. loading all 70,000 Fashion-MNIST images with ``d2l_bn.data.load_arrays()``, warm
   (target: under 1 s) and cold (first call in a fresh process);
2. the overhead of ``d2l.Trainer`` against a minimal hand-written loop training the
   chapter's LeNetBN (target: Trainer / raw >= 0.95 in every framework);
3. the chapter's scratch BatchNorm against each framework's own layer, for the layer
   alone and for a whole LeNet SGD step;
4. LeNet-BN training throughput in GFLOP/s against a measured matrix-multiply limit.

Modules: ``config`` (full and ``--quick`` sizes), ``timing`` (framework-free timing),
``machine`` (what machine), ``data_load``, ``flops``, ``worker`` (one framework per fresh
process), ``fw_torch``, ``fw_tensorflow``, ``fw_mxnet`` (the same small names per
framework), ``summary`` (derived numbers, verdicts), ``report`` (table, JSON, markdown)
and ``plot``. ``lr_sweep`` is a separate script. ``NOTES.md`` records one-off
investigations whose code is gone.
"""

SCHEMA = "d2l_bn-benchmarks/2"
