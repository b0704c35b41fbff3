import io

import numpy as np
import pytest
from PIL import Image

from pgstudio.core.data.dataset import DatasetError, import_folder, load_demo


def _awkward_folder(root):
    root.mkdir()
    (root / "a").mkdir()
    (root / "b").mkdir()
    Image.new("RGB", (40, 20), (255, 0, 0)).save(root / "a" / "wide.png")
    # EXIF orientation 6 (rotate 90° CW to display): stored 30x10, shown 10x30
    img = Image.new("RGB", (30, 10), (0, 0, 255))
    img.paste((255, 255, 0), (0, 0, 15, 10))               # left half yellow as stored
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(root / "a" / "rotated.jpg", exif=exif.tobytes(), quality=95)
    arr16 = (np.linspace(0, 65535, 16 * 16).reshape(16, 16)).astype(np.uint16)
    Image.fromarray(arr16).save(root / "a" / "gray16.png")
    pal = Image.new("P", (16, 16), 0)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.paste(1, (0, 0, 8, 16))
    pal.info["transparency"] = 0
    pal.save(root / "a" / "palette.png", transparency=0)
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(root / "b" / "cmyk.jpg")   # red in CMYK
    Image.new("LA", (16, 16), (128, 255)).save(root / "b" / "gray_alpha.png")
    frames = [Image.new("RGB", (16, 16), c) for c in [(0, 255, 0), (255, 0, 0)]]
    frames[0].save(root / "b" / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("RGB", (16, 16), (10, 20, 30)).save(root / "b" / "x.tiff")
    Image.new("RGB", (16, 16), (10, 20, 30)).save(root / "b" / "x.webp")
    Image.new("RGB", (16, 16), (10, 20, 30)).save(root / "b" / "x.bmp")
    # the bad ones
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "JPEG")
    (root / "b" / "truncated.jpg").write_bytes(buf.getvalue()[:200])
    (root / "b" / "empty.png").write_bytes(b"")
    (root / "b" / "notes.jpg").write_text("this is not an image")
    Image.new("L", (300, 300), 0).save(root / "b" / "bomb.png")
    (root / "readme.txt").write_text("hello")


def test_awkward_folder(tmp_path):
    folder = tmp_path / "awkward"
    _awkward_folder(folder)
    ds = import_folder(folder, resolution=8, mode="crop", max_pixels=200 * 200, cache_dir=tmp_path / "cache")
    reasons = dict(ds.report.skipped)
    assert ds.report.used == 10 == len(ds)
    assert "empty" in reasons["b/empty.png"]
    assert "truncated or corrupt" in reasons["b/truncated.jpg"]
    assert "not an image" in reasons["b/notes.jpg"]
    assert "too large" in reasons["b/bomb.png"]
    assert "not an image file type" in reasons["readme.txt"]
    assert ds.channels == 3
    assert sorted(ds.levels) == [4, 8]
    assert ds.levels[8].shape == (10, 3, 8, 8) and ds.levels[8].dtype == np.uint8
    assert ds.class_names == ["a", "b"]
    assert sorted(set(ds.labels.tolist())) == [0, 1]
    assert ds.report.modes["I;16"] == 1 and ds.report.modes["CMYK"] == 1


def _find(folder, ds, name):
    from pgstudio.core.data.dataset import list_files, IMAGE_EXTENSIONS
    good = [p for p in list_files(folder) if p.suffix.lower() in IMAGE_EXTENSIONS
            and str(p.relative_to(folder)) not in dict(ds.report.skipped)]
    return ds.levels[8][[str(p.relative_to(folder)) for p in good].index(name)]


def test_conversions_are_correct(tmp_path):
    folder = tmp_path / "awkward"
    _awkward_folder(folder)
    ds = import_folder(folder, resolution=8, max_pixels=200 * 200, cache_dir=tmp_path / "cache")
    rotated = _find(folder, ds, "a/rotated.jpg")        # after EXIF: top half yellow, bottom blue
    assert rotated[2, 0].mean() < 60 and rotated[0, 0].mean() > 200   # top: yellow (R, G high; B low)
    assert rotated[2, 7].mean() > 200 and rotated[0, 7].mean() < 60   # bottom: blue
    cmyk = _find(folder, ds, "b/cmyk.jpg")
    assert cmyk[0].mean() > 200 and cmyk[1].mean() < 60              # red
    gray16 = _find(folder, ds, "a/gray16.png")
    assert 90 < gray16.mean() < 165 and gray16.max() > 200           # scaled, not clipped to white
    palette = _find(folder, ds, "a/palette.png")
    assert palette[:, :, 6:].min() > 240                             # transparent part → white
    assert palette[1, :, :2].mean() > 200 and palette[0, :, :2].mean() < 60   # opaque part green
    gif = _find(folder, ds, "b/anim.gif")
    assert gif[1].mean() > 200 and gif[0].mean() < 60                # first frame (green)


def test_modes_for_non_square(tmp_path):
    folder = tmp_path / "wide"
    folder.mkdir()
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 20))            # blue stripe on the left quarter
    img.save(folder / "wide.png")
    crop = import_folder(folder, 8, "crop", cache_dir=tmp_path / "c").levels[8][0]
    pad = import_folder(folder, 8, "pad", cache_dir=tmp_path / "c").levels[8][0]
    stretch = import_folder(folder, 8, "stretch", cache_dir=tmp_path / "c").levels[8][0]
    assert crop[2].max() < 30                                         # crop cut the blue stripe off
    assert pad[:, 0].max() < 10 and pad[0, 4, 4] > 200                # black bars above and below
    assert stretch[2, 4, 0] > 200 and stretch[0, 4, 7] > 200          # stripe kept on the left


def test_gray_auto_detected_and_overridable(tmp_path):
    folder = tmp_path / "gray"
    folder.mkdir()
    for i in range(3):
        Image.new("L", (8, 8), 40 * i).save(folder / f"{i}.png")
    Image.new("RGB", (8, 8), (90, 90, 90)).save(folder / "rgb_but_gray.png")
    assert import_folder(folder, 8, cache_dir=tmp_path / "c").channels == 1
    assert import_folder(folder, 8, channels="rgb", cache_dir=tmp_path / "c").channels == 3


def test_cache_hit_and_changed_folder(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(folder / f"{i}.png")
    cache = tmp_path / "cache"
    first = import_folder(folder, 8, cache_dir=cache)
    second = import_folder(folder, 8, cache_dir=cache)
    assert not first.report.from_cache and second.report.from_cache
    assert np.array_equal(first.levels[8], second.levels[8])
    Image.new("RGB", (8, 8), (0, 255, 0)).save(folder / "new.png")
    third = import_folder(folder, 8, cache_dir=cache)
    assert not third.report.from_cache and len(third) == 5
    for damaged in cache.glob("*.npz"):                               # every cache file of the folder
        damaged.write_bytes(b"garbage")
    rebuilt = import_folder(folder, 8, cache_dir=cache)                # a damaged cache is rebuilt, not read
    assert not rebuilt.report.from_cache and len(rebuilt) == 5
    assert np.array_equal(rebuilt.levels[8], third.levels[8])
    assert import_folder(folder, 8, cache_dir=cache).report.from_cache    # and written again


def test_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="folder not found"):
        import_folder(tmp_path / "nope", 8)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="no usable image"):
        import_folder(empty, 8)
    (empty / "a.jpg").write_text("nope")
    with pytest.raises(DatasetError, match="1 file"):
        import_folder(empty, 8, cache_dir=tmp_path / "c")


def test_demo_set_is_built_in():
    ds = load_demo(32)
    assert len(ds) > 1500 and ds.channels == 3 and ds.levels[32].shape[1:] == (3, 32, 32)
    assert ds.levels[32].std() > 30             # real colourful content, not a blank
    assert sorted(ds.levels) == [4, 8, 16, 32]
