"""The delivery runtime: `python -P -m jupyter_helpers.delivery`, a child of a kernel, of the
server or of the CLI, run by the Python `install` recorded (it has ntfy). It knows nothing of runs,
presence or kernels: it delivers what it is handed, one message at a time, within a time limit."""
