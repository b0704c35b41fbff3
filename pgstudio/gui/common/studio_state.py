"""The studio's state as plain Python: the chosen data set and its import options, the open run,
whether a trainer runs, the throughput it measured, and a start asked for or requested.

Pages change it through its methods and observe it; none of them reaches into another. Every
change is announced to the listeners by name ("data", "run", "training", "throughput",
"start_asked", "start_requested"); StudioSignals turns that into a Qt signal the pages connect
to. It imports no Qt, so it is tested anywhere, and it is only changed from the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class DataChoice:
    """The data set the next run trains on, as the Dataset page has it."""
    source: str | None = None           # an image folder, or None with demo
    demo: bool = False
    options: dict = field(default_factory=dict)     # resolution, mode, channels
    dataset: object | None = field(default=None, compare=False)   # the imported ImageDataset, once ready
    importing: bool = False

    @property
    def ready(self) -> bool:
        return self.dataset is not None

    def same_as(self, other: "DataChoice") -> bool:
        """Equal settings and the very same imported data set (its arrays are not compared)."""
        return self == other and self.dataset is other.dataset


@dataclass(frozen=True)
class StartRequest:
    """A new run the setup form built: its settings, its data and its folder (with ``queue``: the
    folder of a run queue the form created, trained run after run)."""
    cfg: object
    dataset: object
    out_dir: str
    queue: bool = False


class StudioState:
    def __init__(self):
        self.data = DataChoice()
        self.run_path: str | None = None
        self.training = False
        # img/s per resolution measured in this window, per network and device (settings.throughput_key):
        # a duration estimate reads only what was measured for the networks it estimates
        self.live_throughput: dict[str, dict[int, float]] = {}
        self.start_request: StartRequest | None = None
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def _announce(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    # --- changes, each announced
    def choose_data(self, data: DataChoice) -> None:
        if not data.same_as(self.data):
            self.data = data
            self._announce("data")

    def open_run(self, path: str | None) -> None:
        self.run_path = path
        self._announce("run")

    def set_training(self, running: bool) -> None:
        if running != self.training:
            self.training = running
            self._announce("training")

    def measured_throughput(self, key: str, speeds: dict[int, float]) -> None:
        if speeds and speeds != self.live_throughput.get(key):
            self.live_throughput[key] = dict(speeds)
            self._announce("throughput")

    def ask_to_start(self) -> None:
        """Someone (the Training page's Start, a shortcut) wants a new run from the setup form."""
        self._announce("start_asked")

    def request_start(self, request: StartRequest) -> None:
        """The setup form built a valid run: the Training page starts it."""
        self.start_request = request
        self._announce("start_requested")

    def take_start_request(self) -> StartRequest | None:
        request, self.start_request = self.start_request, None
        return request
