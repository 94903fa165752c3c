"""The kernel runtime: loaded into every user kernel and terminal IPython by the startup file.

Standard library, IPython, traitlets and `common/` only, and microseconds per cell: the kernel's
environment may lack everything else jupyter-helpers uses (tests/test_layout.py and
tests/test_kernel_purity.py hold it to that).
"""
