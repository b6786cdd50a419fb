"""Benchmark suite of the batch-normalization course: ``python -m benchmarks``.

What it measures (each ratio side by side in one process, repeats interleaved
A, B, A, B, ..., medians after a warm-up, with min and max):

1. loading all 70,000 Fashion-MNIST images with ``d2l_bn.data.load_arrays()``, cold
   (fresh process, page cache dropped when possible) and warm (target: under 1 s);
2. the overhead of ``d2l.Trainer`` against a minimal hand-written loop training the
   chapter's LeNetBN (target: Trainer / raw >= 0.95 in every framework);
3. the cost of the chapter's scratch BatchNorm against each framework's own layer,
   for one layer and for a whole LeNet SGD step, and of the broadcasting pattern that
   the scratch layer is made of (``x - m`` with one ``m`` per channel vs ``m`` of
   ``x``'s shape);
4. LeNet-BN training throughput in GFLOP/s against a measured matrix-multiply limit;
5. for PyTorch, a diagnostic: a LeNet step and a BN layer on a batch gathered with
   ``X[idx]`` (strides that PyTorch reads as channels-last) against ``np.take``.

Modules: ``timing`` (framework-free timing), ``config`` (full and ``--quick`` sizes),
``machine`` (machine description, page cache, numpy matmul), ``data_load``, ``flops``,
``worker`` (one framework per fresh process), ``fw_torch``, ``fw_tensorflow``,
``fw_mxnet`` (the same small functions per framework), ``summary`` (derived numbers,
verdicts) and ``report`` (table, JSON, markdown, plot). ``lr_sweep.py`` is a separate
script.
"""

SCHEMA = "d2l_bn-benchmarks/1"
FRAMEWORK_ORDER = ("pytorch", "tensorflow", "mxnet")
