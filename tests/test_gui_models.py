"""The Qt-free parts of the studio: the run history, the event mailbox, the run form's table parser."""
import math
import threading
from pathlib import Path

import numpy as np
import pytest

from pgstudio.core.training import events as ev
from pgstudio.core.storage.runfolder import SampleEntry
from pgstudio.gui.common.mailbox import EventMailbox
from pgstudio.gui.training.run_history import RunHistory, smooth
from pgstudio.gui.setup.form import format_table, parse_table


def tick(kimg, resolution=4, phase="stabilize", alpha=1.0, img_per_s=100.0, **extra):
    return {"kind": "tick", "kimg": kimg, "wall_s": kimg * 10, "resolution": resolution, "alpha": alpha,
            "phase": phase, "loss_d": 1.0 + kimg, "loss_g": 2.0 - kimg, "img_per_s": img_per_s, **extra}


def test_history_keeps_ticks_in_order_and_drops_repeats():
    h = RunHistory()
    for k in (0.1, 0.2, 0.2, 0.15, 0.3):              # a live event also read back from disk, an older one
        h.add_tick(tick(k))
    assert h.kimg == [0.1, 0.2, 0.3] and h.version == 3
    assert h.loss_d == [1.1, 1.2, 1.3] and h.last_tick["kimg"] == 0.3
    assert math.isnan(h.pl_mean[0]) and not h.shows_regularisers
    h.add_tick(tick(0.4, pl_mean=0.5, pl_penalty=0.1))
    assert h.shows_regularisers


def test_history_phase_spans_throughput_and_wall_interpolation():
    h = RunHistory()
    for k, res, ph, speed in ((1, 4, "stabilize", 100), (2, 4, "stabilize", 300), (3, 8, "fade", 50),
                              (4, 8, "stabilize", 70)):
        h.add_tick(tick(k, res, ph, img_per_s=speed))
    spans = h.phase_spans()
    assert [(s.kind, s.resolution, s.start_kimg, s.end_kimg) for s in spans] == [
        ("stabilize", 4, 0.0, 2), ("fade", 8, 2, 3), ("stabilize", 8, 3, 4)]
    assert h.throughput_by_resolution() == {4: 200.0, 8: 60.0}
    assert h.wall_at(2.5) == pytest.approx(25.0)
    h.add_metric({"kind": "swd", "kimg": 2.5, "mean": 30.0})
    h.add_metric({"kind": "swd", "kimg": 2.0, "mean": 31.0})      # an older checkpoint scored later
    h.add_metric({"kind": "swd", "kimg": 2.5, "mean": 30.0})      # the same point again: one point
    assert h.swd_kimg == [2.0, 2.5] and h.swd_mean == [31.0, 30.0]
    assert h.swd_wall == [pytest.approx(20.0), pytest.approx(25.0)]


def test_history_samples_csv_and_stall_warning(tmp_path):
    h = RunHistory()
    for i, (k, res) in enumerate(((0, 4), (1, 4), (2, 8))):
        h.add_sample(SampleEntry(f"g{i}.png", k, res, 1.0, "stabilize", Path(tmp_path / f"g{i}.png")))
    h.add_sample(SampleEntry("g2.png", 2, 8, 1.0, "stabilize", Path(tmp_path / "g2.png")))    # repeat
    assert [s.file for s in h.samples] == ["g0.png", "g1.png", "g2.png"]
    assert {r: s.file for r, s in h.last_sample_per_resolution().items()} == {4: "g1.png", 8: "g2.png"}
    h.add_tick(tick(1.0))
    assert h.warning() is None
    h.add_tick(tick(2.0, stalled=["discriminator"]))
    h.add_tick(tick(3.0, stalled=["discriminator", "generator"]))
    assert h.stalled_since == {"discriminator": 2.0, "generator": 3.0}
    assert h.warning().startswith("⚠ The discriminator and the generator stopped learning at 2.00 kimg")
    h.add_tick(tick(4.0, stalled=[]))
    assert h.warning() is None and h.stalled_since == {}
    rows = h.to_csv().splitlines()
    assert rows[0].startswith("kimg,wall_s,resolution") and len(rows) == 1 + len(h.kimg)


def test_smooth_is_a_debiased_moving_average():
    values = np.array([1.0, 1.0, 1.0, 5.0])
    assert np.allclose(smooth(values, 0.0), values)
    out = smooth(values, 0.5)
    assert out[0] == 1.0 and out[2] == pytest.approx(1.0) and 1.0 < out[3] < 5.0


def test_mailbox_keeps_every_tick_and_only_the_newest_snapshot():
    box = EventMailbox()
    assert not box.drain()
    for k in range(5):
        box.put(ev.TickEvent({"kimg": k}, 10.0, None))
    box.put(ev.LogEvent("hello"))
    box.put(ev.PausedEvent(True, 1.0))
    box.put(ev.GeneratorSnapshotEvent({}, {}, 2, 1.0, 1.0))
    last = ev.GeneratorSnapshotEvent({}, {}, 3, 1.0, 2.0)
    box.put(last)
    d = box.drain()
    assert [t.record["kimg"] for t in d.ticks] == [0, 1, 2, 3, 4]
    assert d.logs == ["hello"] and d.paused is True and d.snapshot is last
    assert not box.drain()                                 # drained means empty


def test_mailbox_is_bounded_and_safe_across_threads():
    box = EventMailbox()
    n = EventMailbox.MAX_ITEMS + 500

    def produce():
        for k in range(n):
            box.put(ev.TickEvent({"kimg": k}, 1.0, None))
    threads = [threading.Thread(target=produce) for _ in range(2)]
    for t in threads:
        t.start()
    seen = 0
    while any(t.is_alive() for t in threads):
        seen += len(box.drain().ticks)
    seen += len(box.drain().ticks)
    assert seen <= 2 * n
    for _ in range(n):
        box.put(ev.TickEvent({"kimg": 0}, 1.0, None))
    assert len(box.drain().ticks) == EventMailbox.MAX_ITEMS


def test_table_parser_round_trips_and_explains_mistakes():
    assert parse_table("4:64 8:64, 16:32", int) == {4: 64, 8: 64, 16: 32}
    assert parse_table("", float) == {}
    assert format_table(parse_table("1024:0.0015 8:0.002", float)) == "8:0.002 1024:0.0015"
    for text, cast, words in (("4=64", int, "is not resolution:value"), ("four:64", int, "a whole resolution"),
                              ("4:1.5", int, "whole number"), ("8:nan", float, "not a finite number"),
                              ("8:inf", float, "not a finite number")):
        with pytest.raises(ValueError, match=words):
            parse_table(text, cast)


def test_the_qt_binding_keeps_none_alive(qtbot):
    """PySide6 6.12.0 drops a reference to None on every call that takes a string: the studio's
    status updates run None's count down until Python aborts (seen at the end of a test run,
    'deallocating None'). pyproject.toml excludes that release; this catches any other that does it."""
    import gc
    import sys
    from PySide6.QtWidgets import QLabel
    label = QLabel()
    qtbot.addWidget(label)
    gc.collect()
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i))
        label.setToolTip(str(i))
    gc.collect()
    assert sys.getrefcount(None) - before > -100, "this PySide6 leaks references to None: use another release"


def test_the_studio_state_announces_each_change_once():
    from pgstudio.gui.common.studio_state import DataChoice, StartRequest, StudioState
    state, heard = StudioState(), []
    state.subscribe(heard.append)
    data = object()
    state.choose_data(DataChoice("/x", False, {"resolution": 16}, data))
    state.choose_data(DataChoice("/x", False, {"resolution": 16}, data))      # the same choice: silent
    state.choose_data(DataChoice("/x", False, {"resolution": 16}, object()))  # another import: news
    state.set_training(True)
    state.set_training(True)
    state.measured_throughput("progressive-64", {8: 100.0})
    state.measured_throughput("progressive-64", {8: 100.0})                  # the same figures: silent
    state.request_start(StartRequest("cfg", data, "/out"))
    assert heard == ["data", "data", "training", "throughput", "start_requested"]
    assert state.take_start_request().out_dir == "/out" and state.take_start_request() is None
    assert state.data.ready and state.training and state.live_throughput == {"progressive-64": {8: 100.0}}
