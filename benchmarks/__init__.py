"""Benchmark suite of the course (``python -m benchmarks``): what the Performance page shows.

Each ratio's sides run in one process, interleaved (medians after a warm-up): loading
all 70,000 images (target: warm under 1 s); ``d2l.Trainer`` against a minimal raw loop
(target: Trainer/raw >= 0.95; its rate also sets the page's learner's-wait ratio); the
chapter's scratch BatchNorm against each framework's layer, alone and in a LeNet SGD
step (target: at most 2x). Modules: ``config``, ``timing``, ``machine``, ``data_load``,
``worker`` (one framework per process), ``fw_<module>`` (adapters), ``report``
(verdicts, JSON, markdown). ``NOTES.md`` keeps one-off investigations.
"""

SCHEMA = "d2l_bn-benchmarks/3"
