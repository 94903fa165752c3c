"""The picture: the last image a run displayed goes with its message, as a Telegram photo whose
caption is the text (real kernel, real ntfy/telegram-send chain, fake Bot API recording sendPhoto)."""

from __future__ import annotations

from pathlib import Path

from support.images import png
from support.kernels import kernel_config
from support.notebooks import run_notebook


def test_run_all_sends_the_last_image_as_a_photo_with_the_caption(kernel_home: Path, telegram, home: Path) -> None:
    kernel_config(home, "c.AutoNotify.after = 1\n")
    first, last = png(40, 30, (200, 30, 30)), png(64, 48, (30, 30, 200))
    run_notebook(
        [
            f"from IPython.display import Image, display\nimport time\ndisplay(Image(data={first!r}))\ntime.sleep(0.6)",
            f"time.sleep(0.6)\nImage(data={last!r})",  # the cell's result: shown by the display hook
            "x = 1",
        ],
        kernel_home,
    )
    telegram.wait_for(1)
    photos = telegram.photos()
    assert len(photos) == 1 and telegram.texts() == [], telegram.methods()
    assert photos[0]["photo"] == last  # the exact bytes the notebook showed last
    assert photos[0]["caption"].startswith("✅ analysis.ipynb: cells [1]–[3] finished after ")


def test_images_false_sends_text_only(kernel_home: Path, telegram, home: Path) -> None:
    kernel_config(home, "c.AutoNotify.after = 0.5\nc.AutoNotify.images = False\n")
    picture = png(8, 8, (0, 128, 0))
    run_notebook([f"from IPython.display import Image, display\nimport time\ndisplay(Image(data={picture!r}))\n"
                  "time.sleep(0.6)"], kernel_home)
    texts = telegram.wait_for(1)
    assert telegram.photos() == [] and len(texts) == 1 and texts[0].startswith("✅ analysis.ipynb: cell [1]")
