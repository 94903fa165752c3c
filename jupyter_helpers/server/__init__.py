"""The server runtime: the Jupyter server extension (page scripts for titles and presence, the
presence endpoint, kernel deaths, ActivityWatch heartbeats). Runs in the Jupyter server's process
and never blocks its event loop; `app.JupyterHelpersApp` owns all of it."""
