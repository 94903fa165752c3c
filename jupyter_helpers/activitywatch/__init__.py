"""ActivityWatch from the CLI: category rules from the project map (`export`) and the time report
(`report`), read from a running aw-server over its REST API."""
