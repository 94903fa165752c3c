"""What every runtime shares: standard library only, imported by kernels, the delivery child, the
server and the CLI alike (tests/test_layout.py holds it to that)."""
