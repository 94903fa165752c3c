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
    run_notebook(
        [f"from IPython.display import Image, display\nimport time\ndisplay(Image(data={picture!r}))\ntime.sleep(0.6)"],
        kernel_home,
    )
    texts = telegram.wait_for(1)
    assert telegram.photos() == [] and len(texts) == 1 and texts[0].startswith("✅ analysis.ipynb: cell [1]")


BIG_PNG = """import os, struct, zlib
from IPython.display import Image, display
def big_png(size):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"tEXt", b"x\\0" + os.urandom(size))
            + chunk(b"IDAT", zlib.compress(b"\\0" * 4)) + chunk(b"IEND", b""))"""


def test_a_picture_far_over_10_mb_is_left_out_in_the_kernel_and_the_text_arrives(
    kernel_home: Path, telegram, home: Path
) -> None:
    """40 MB in the last run of a kernel that exits right after (an nbconvert job): the picture
    used to be piped whole to the delivery child and nothing arrived at all (issue 16, F4)."""
    kernel_config(home, "c.AutoNotify.after = 1\n")
    run_notebook(
        [BIG_PNG, "display(Image(data=big_png(40_000_000), format='png'))\nimport time; time.sleep(1.1)"], kernel_home
    )
    texts = telegram.wait_for(1, timeout=60)
    assert telegram.photos() == [] and len(texts) == 1, (telegram.methods(), texts)
    assert texts[0].startswith("✅ analysis.ipynb: cells [1]–[2] finished after "), texts[0]
    assert texts[0].endswith("\n(picture left out: 40.0 MB is over Telegram's 10 MB photo limit)"), texts[0]
