"""Rebuild pgstudio/data/demo_emoji.png, the built-in demo data set (maintainers only).

It lives inside the package so that every install, a wheel included, carries it.

Renders every colour emoji of Debian's fonts-noto-color-emoji that is a single code point (plus the five skin-tone variants of people and hands),
composites it on white, downsizes it to 32x32 with Lanczos and packs all tiles into one PNG
atlas (64 tiles a row). Run: apt-get install fonts-noto-color-emoji; python resources/make_demo_dataset.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
TILE = 32
PER_ROW = 64
RANGES = [(0x1F000, 0x1F2FF), (0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF),
          (0x1FA70, 0x1FAFF), (0x2300, 0x23FF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x3000, 0x32FF)]
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]


def render(font: ImageFont.FreeTypeFont, char: str) -> Image.Image | None:
    canvas = Image.new("RGBA", (136, 128), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), char, font=font, embedded_color=True)
    bbox = canvas.getbbox()
    if bbox is None:
        return None
    alpha = np.asarray(canvas)[..., 3]
    if (alpha > 0).mean() < 0.02:
        return None
    glyph = canvas.crop(bbox)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    square.paste(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    white = Image.new("RGBA", square.size, (255, 255, 255, 255))
    white.alpha_composite(square)
    framed = Image.new("RGB", (int(side * 1.12), int(side * 1.12)), (255, 255, 255))
    framed.paste(white.convert("RGB"), ((framed.width - side) // 2, (framed.height - side) // 2))
    return framed.resize((TILE, TILE), Image.LANCZOS)


def main() -> None:
    font = ImageFont.truetype(FONT, 109)
    notdef = render(font, "\U000E0001")
    tiles = []
    for lo, hi in RANGES:
        for cp in range(lo, hi + 1):
            tile = render(font, chr(cp))
            if tile is None:
                continue
            if notdef is not None and np.array_equal(np.asarray(tile), np.asarray(notdef)):
                continue
            tiles.append(np.asarray(tile))
            # people and hands come in five skin tones: each is its own colour sample
            for tone in SKIN_TONES:
                toned = render(font, chr(cp) + tone)
                if toned is not None and toned.size == tile.size and not np.array_equal(
                        np.asarray(toned), np.asarray(tile)) and render(font, tone) is not None:
                    if np.abs(np.asarray(toned, float) - np.asarray(tile, float)).mean() < 40:
                        tiles.append(np.asarray(toned))
    rows = (len(tiles) + PER_ROW - 1) // PER_ROW
    atlas = np.full((rows * TILE, PER_ROW * TILE, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, PER_ROW)
        atlas[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = t
    out = Path(__file__).resolve().parents[1] / "pgstudio" / "data" / "demo_emoji.png"
    img = Image.fromarray(atlas)
    img.info["count"] = str(len(tiles))
    from PIL import PngImagePlugin
    meta = PngImagePlugin.PngInfo()
    meta.add_text("count", str(len(tiles)))
    meta.add_text("tile", str(TILE))
    meta.add_text("source", "Noto Color Emoji (SIL Open Font License 1.1), rendered by make_demo_dataset.py")
    img.save(out, optimize=True, pnginfo=meta)
    print(f"{len(tiles)} emoji → {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
