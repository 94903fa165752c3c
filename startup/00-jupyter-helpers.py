# jupyter-helpers: turns on %autonotify in every IPython and kernel started with this profile.
# Installed by `jupyter-helpers install`; removed by `jupyter-helpers uninstall`. It must never
# break a kernel: any failure prints one line and startup goes on (later startup files still run).


def _jupyter_helpers_startup():
    import sys

    try:
        import importlib.util
        import json
        import os

        shell = get_ipython()  # noqa: F821 - defined in the namespace startup files run in
        record = os.path.join(shell.profile_dir.location, "jupyter_helpers", "installation.json")
        with open(record, encoding="utf-8") as handle:
            package_dir = json.load(handle)["package_dir"]
        if "jupyter_helpers" not in sys.modules:
            # Load only this package from where it was installed, not that environment's
            # site-packages: the kernel's own environment may lack jupyter-helpers entirely.
            spec = importlib.util.spec_from_file_location(
                "jupyter_helpers",
                os.path.join(package_dir, "__init__.py"),
                submodule_search_locations=[package_dir],
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules["jupyter_helpers"] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules["jupyter_helpers"]
                raise
        shell.extension_manager.load_extension("jupyter_helpers")
    except Exception as exc:
        print(
            f"jupyter-helpers: autonotify is off in this kernel ({type(exc).__name__}: {exc}). "
            "Run `jupyter-helpers status` to see why.",
            file=sys.stderr,
        )


_jupyter_helpers_startup()
del _jupyter_helpers_startup
