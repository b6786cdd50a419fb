"""The three backends export the same names, and ``import d2l_bn`` loads no framework."""

import importlib
import subprocess
import sys

from d2l_bn import BACKEND_MODULES, FRAMEWORKS

REQUIRED = {"FashionMNIST", "Classifier", "Trainer", "ProgressBoard", "try_gpu",
            "init_cnn", "set_seed", "smoke_mode", "DatasetError", "FitResult"}


def public_names(framework):
    module = importlib.import_module(f"d2l_bn.{BACKEND_MODULES[framework]}")
    return set(module.__all__), module


def test_backends_export_the_same_public_names():
    names = {fw: public_names(fw)[0] for fw in FRAMEWORKS}
    reference = names["pytorch"]
    for fw, exported in names.items():
        assert exported == reference, f"{fw} differs: {exported ^ reference}"
    assert REQUIRED <= reference


def test_every_exported_name_exists_with_a_docstring():
    for fw in FRAMEWORKS:
        exported, module = public_names(fw)
        for name in exported:
            obj = getattr(module, name)
            assert obj.__doc__, f"{fw}.{name} has no docstring"


def test_classifier_methods_match_across_frameworks():
    methods = ("cross_entropy", "accuracy", "training_step", "validation_step",
               "configure_optimizers")
    for fw in FRAMEWORKS:
        _, module = public_names(fw)
        for method in methods:
            assert callable(getattr(module.Classifier, method)), (fw, method)


def test_import_d2l_bn_loads_no_framework():
    code = ("import sys, d2l_bn, d2l_bn.data, d2l_bn.loop, d2l_bn.board; "
            "print([m for m in ('torch', 'tensorflow', 'mxnet', 'keras') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
