"""An ntfy backend for tests (`backends: [recorder_backend]`): appends what it is given to the file
named by RECORDER_FILE, so a test can see exactly what a non-Telegram backend received."""

import os


def notify(title, message, retcode=None):
    with open(os.environ["RECORDER_FILE"], "a") as handle:
        handle.write(f"{title}|{message}\n===\n")
