"""The installer runtime: the only code that writes user files (`install`, `uninstall`, `wsl`),
and `status`, which reads what the real consumers read."""
