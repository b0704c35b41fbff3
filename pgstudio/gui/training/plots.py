"""Live training curves: losses, α and resolution, throughput and MS-SWD on one linked x axis.

Every curve and band is created once and fed with setData; the panel redraws only when the
history's version moved, so a redraw costs the same whether training runs fast or slow.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ...core.analysis.inception_metrics import FID_RELIABLE
from ...core.storage.records import MODEL_CURVES
from .run_history import RunHistory, smooth
from ..common.widgets import named

D_COLOR, G_COLOR = (31, 119, 180), (255, 127, 14)
FID_COLOR, KID_COLOR = (23, 118, 118), (188, 60, 140)
FADE_BRUSH = pg.mkBrush(255, 200, 80, 45)
STAB_BRUSH = pg.mkBrush(120, 160, 220, 18)


def alpha_path(x: np.ndarray, history: RunHistory) -> tuple[np.ndarray, np.ndarray]:
    """α as the schedule has it: a ramp through each fade and a drop to 0 where a fade begins
    (joining the ticks straight would draw α sliding down across every growth)."""
    xs, ys = [], []
    for i, (xi, a, ph, res) in enumerate(zip(x, history.alpha, history.phase, history.resolution)):
        if i and ph == "fade" and (history.phase[i - 1] != "fade" or history.resolution[i - 1] != res):
            xs.append(x[i - 1])
            ys.append(0.0)               # the new block starts fully faded out
        xs.append(xi)
        ys.append(a)
    return np.asarray(xs, float), np.asarray(ys, float)


class LossAxis(pg.AxisItem):
    """A y axis whose log mode labels 1-2-5 steps (and every integer multiple when the range is
    narrower than that), not only the decades: losses span a factor of a few, where decade
    labels leave one tick or none."""

    def tickValues(self, minVal, maxVal, size):
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = math.floor(minVal) - 1, math.ceil(maxVal) + 1
        for multiples in ((1, 2, 5), tuple(range(1, 10))):
            ticks = [math.log10(m) + k for k in range(lo, hi) for m in multiples
                     if minVal <= math.log10(m) + k <= maxVal]
            if len(ticks) >= 3:
                break
        return [(1.0, ticks)]

    def tickStrings(self, values, scale, spacing):
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [f"{10 ** v:.3g}" for v in values]


class _RightAxisPlot:
    """A PlotItem with a second ViewBox on the right axis (shares x)."""

    def __init__(self, plot: pg.PlotItem, right_label: str):
        self.plot = plot
        self.right = pg.ViewBox()
        plot.showAxis("right")
        plot.scene().addItem(self.right)
        plot.getAxis("right").linkToView(self.right)
        plot.getAxis("right").setLabel(right_label)
        self.right.setXLink(plot)
        plot.vb.sigResized.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        self.right.setGeometry(self.plot.vb.sceneBoundingRect())
        self.right.linkedViewChanged(self.plot.vb, self.right.XAxis)


class TrainingPlots(QWidget):
    x_mode_changed = Signal(str)
    seek_requested = Signal(float)       # kimg clicked on a curve: the page shows the nearest grid

    def __init__(self, parent=None):
        super().__init__(parent)
        self.history: RunHistory | None = None
        self._drawn_version = -1
        self._bands: list[pg.LinearRegionItem] = []
        self._lines: list[pg.InfiniteLine] = []
        self.fixed_resolution: int | None = None

        controls = QHBoxLayout()
        controls.addWidget(QLabel("x axis"))
        self.x_axis = QComboBox()
        self.x_axis.addItems(["kimg", "wall-clock (min)"])
        self.x_axis.setObjectName("x_axis")
        controls.addWidget(self.x_axis)
        controls.addSpacing(12)
        controls.addWidget(QLabel("smoothing"))
        self.smoothing = named(QSlider(Qt.Horizontal), "smoothing")
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setMaximumWidth(160)
        controls.addWidget(self.smoothing)
        self.smoothing_label = QLabel("0.60")
        controls.addWidget(self.smoothing_label)
        controls.addSpacing(12)
        self.log_y = named(QCheckBox("log-y (|loss|)"), "log_y")
        controls.addWidget(self.log_y)
        controls.addStretch(1)
        self.controls_layout = QHBoxLayout()     # the page adds its curve exports here
        self.controls_layout.addStretch(1)

        self.canvas = pg.GraphicsLayoutWidget()
        self.loss_plot = self.canvas.addPlot(row=0, col=0, axisItems={"left": LossAxis("left")})
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.showGrid(y=True, alpha=0.2)
        self.alpha_plot = self.canvas.addPlot(row=1, col=0)
        self.alpha_plot.setLabel("left", "α")
        self.alpha_plot.setYRange(0, 1.05)
        self.alpha_plot.setMouseEnabled(y=False)
        self.res_axis = _RightAxisPlot(self.alpha_plot, "resolution")
        # StyleGAN2 does not grow: its second row shows the regularisers instead of α/resolution
        self.reg_plot = pg.PlotItem()
        self.reg_plot.setLabel("left", "penalties")
        self.reg_plot.addLegend(offset=(-10, 5))
        self.reg_plot.showGrid(y=True, alpha=0.2)
        self.curve_r1 = self.reg_plot.plot(pen=pg.mkPen((23, 190, 207), width=2), name="R1 (×interval)")
        self.curve_pl = self.reg_plot.plot(pen=pg.mkPen((188, 189, 34), width=2), name="path-length penalty")
        self.curve_pl_mean = self.reg_plot.plot(pen=pg.mkPen((140, 86, 75), width=2, style=Qt.DashLine),
                                                name="path-length mean")
        # the classic family does not grow either: its second row shows D's scores on reals and
        # fakes (and a Wasserstein critic's estimate of the distance), as its papers plot them
        self.model_plot = pg.PlotItem()
        self.model_plot.setLabel("left", "D scores / energies")
        # its legend: one line on a pale ground at the top left, as in the augmentation row (the
        # row is short, and BEGAN draws four curves, which a stacked legend cut to two); it names
        # the curves the run draws (_relist_model_legend)
        self.model_plot.addLegend(offset=(10, 1), brush=pg.mkBrush(255, 255, 255, 210))
        self.model_plot.showGrid(y=True, alpha=0.2)
        colours = {"d_real": (31, 119, 180), "d_fake": (214, 39, 40), "w_distance": (44, 160, 44),
                   "k_t": (255, 127, 14), "m_global": (148, 103, 189), "mi_bound": (140, 86, 75),
                   "pulling_away": (227, 119, 194)}
        self.model_curves = {name: self.model_plot.plot(pen=pg.mkPen(colours.get(name, (90, 90, 90)), width=2))
                             for name in MODEL_CURVES}
        self.second_row = "alpha"
        # a run that augments what D sees gets a row for p and ADA's overfitting signal r_t
        self.aug_plot = pg.PlotItem()
        self.aug_plot.setLabel("left", "aug.")
        self.aug_plot.setYRange(-1.05, 1.05)      # r_t = E[sign D(reals)] lies in [-1, 1], p in [0, 0.8]
        self.aug_plot.setMouseEnabled(y=False)
        # one line on a pale ground at the left: the row is short, the curves run under it, and the
        # newest ticks (at the right) are the ones to read
        self.aug_plot.addLegend(offset=(10, 1), colCount=4, brush=pg.mkBrush(255, 255, 255, 210))
        self.aug_plot.showGrid(y=True, alpha=0.2)
        self.curve_aug_p = self.aug_plot.plot(pen=pg.mkPen((214, 39, 40), width=2), name="p")
        self.curve_aug_rt = self.aug_plot.plot(pen=pg.mkPen((127, 127, 127), width=1, style=Qt.DashLine),
                                               name="r_t (ADA)")
        # r_v: how much of D's real-vs-fake gap is memorisation (train vs held-out); p follows it
        # in a run that holds images out, toward the dotted target
        self.curve_aug_rv = self.aug_plot.plot(pen=pg.mkPen((31, 119, 180), width=2), name="r_v (held-out)")
        self.curve_aug_target = self.aug_plot.plot(pen=pg.mkPen((31, 119, 180), width=1, style=Qt.DotLine),
                                                   name="target")
        self.aug_row = False
        # FID and KID (metric "fid", or scored on the Checkpoints page) get a row of their own, each
        # with its real-vs-real floor dashed; KID x1000 reads on the same scale as FID here
        self.quality_plot = pg.PlotItem()
        self.quality_plot.setLabel("left", "FID")
        # one line at the top left: the row is short, and the first evaluation comes an interval in
        self.quality_plot.addLegend(offset=(10, 2), colCount=4)
        self.quality_plot.showGrid(y=True, alpha=0.2)
        self.curve_fid = self.quality_plot.plot(pen=pg.mkPen(FID_COLOR, width=2), symbol="o", symbolSize=6,
                                                symbolBrush=FID_COLOR, name="FID")
        self.curve_fid_floor = self.quality_plot.plot(pen=pg.mkPen(FID_COLOR, width=1, style=Qt.DashLine),
                                                      name="FID floor")
        self.curve_kid = self.quality_plot.plot(pen=pg.mkPen(KID_COLOR, width=2), symbol="t", symbolSize=6,
                                                symbolBrush=KID_COLOR, name="KID×1000")
        self.curve_kid_floor = self.quality_plot.plot(pen=pg.mkPen(KID_COLOR, width=1, style=Qt.DashLine),
                                                      name="KID floor")
        self.quality_row = False
        self.speed_plot = self.canvas.addPlot(row=2, col=0)
        self.speed_plot.setLabel("left", "img/s")
        self.swd_axis = _RightAxisPlot(self.speed_plot, "MS-SWD ×1000")
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        # short left labels without pyqtgraph's SI prefix: on short rows a long vertical label (with
        # its "(x0.001)") ran into the next row's ("augmentregularisers (x0.001)")
        for plot in (self.loss_plot, self.alpha_plot, self.reg_plot, self.aug_plot, self.quality_plot,
                     self.speed_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("left").setWidth(54)
            plot.getAxis("bottom").enableAutoSIPrefix(False)    # "kimg (x0.001)" read 0–400 under 0–0.4
        self.speed_plot.getAxis("right").enableAutoSIPrefix(False)
        for p in (self.alpha_plot, self.speed_plot, self.reg_plot, self.aug_plot, self.quality_plot):
            p.setXLink(self.loss_plot)
        self.speed_plot.setLabel("bottom", "kimg")

        raw_d = pg.mkPen(D_COLOR + (70,), width=1)
        raw_g = pg.mkPen(G_COLOR + (70,), width=1)
        self.curve_d_raw = self.loss_plot.plot(pen=raw_d)
        self.curve_g_raw = self.loss_plot.plot(pen=raw_g)
        self.curve_d = self.loss_plot.plot(pen=pg.mkPen(D_COLOR, width=2), name="D")
        self.curve_g = self.loss_plot.plot(pen=pg.mkPen(G_COLOR, width=2), name="G")
        self.curve_alpha = self.alpha_plot.plot(pen=pg.mkPen((200, 120, 0), width=2))
        self.curve_res = pg.PlotDataItem(pen=pg.mkPen((80, 80, 80), width=2, style=Qt.DashLine), stepMode="center")
        self.res_axis.right.addItem(self.curve_res)
        self.curve_speed = self.speed_plot.plot(pen=pg.mkPen((44, 160, 44), width=1))
        self.swd_points = pg.PlotDataItem(pen=pg.mkPen((148, 103, 189), width=1), symbol="o", symbolSize=7,
                                          symbolBrush=(148, 103, 189))
        self.swd_axis.right.addItem(self.swd_points)
        for curve in (self.curve_d_raw, self.curve_g_raw, self.curve_d, self.curve_g, self.curve_speed):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        # a margin round the data, so the newest points do not sit under the right axis
        for view in (self.loss_plot.vb, self.alpha_plot.vb, self.speed_plot.vb, self.reg_plot.vb,
                     self.res_axis.right, self.swd_axis.right):
            view.setDefaultPadding(0.04)

        # hover: one vertical line through every row and the tick's numbers under the controls;
        # the grid chosen on the timeline is a dashed line on every row
        self.readout = named(QLabel(" "), "plot_readout")
        self.readout.setStyleSheet("color: #444")
        self._hover_lines, self._marker_lines = [], []
        for plot in self._row_plots():
            hover = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((120, 120, 120), width=1))
            marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((148, 103, 189), width=1.5,
                                                                            style=Qt.DashLine))
            for line in (hover, marker):
                line.setVisible(False)
                line.setZValue(50)
                plot.addItem(line, ignoreBounds=True)
            self._hover_lines.append(hover)
            self._marker_lines.append(marker)
        self.marker_kimg: float | None = None
        self.hover_kimg: float | None = None
        self.canvas.scene().sigMouseMoved.connect(self._mouse_moved)
        self.canvas.scene().sigMouseClicked.connect(self._mouse_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.readout)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self.controls_layout)

        self.x_axis.currentIndexChanged.connect(self._options_changed)
        self.smoothing.valueChanged.connect(self._options_changed)
        self.log_y.toggled.connect(self._options_changed)

    def _row_plots(self) -> list:
        return [self.loss_plot, self.alpha_plot, self.reg_plot, self.aug_plot, self.quality_plot, self.speed_plot]

    # -------------------------------------------------------------- hover, marker, seek
    def _x_of(self, kimg: float) -> float:
        return self.history.wall_at(kimg) / 60 if self.use_wall and self.history is not None else kimg

    def _tick_near(self, x: float) -> int | None:
        """Index of the tick nearest to ``x`` on the current axis."""
        h = self.history
        if h is None or not h.kimg:
            return None
        xs = np.asarray(h.wall, float) / 60 if self.use_wall else np.asarray(h.kimg, float)
        return int(np.nanargmin(np.abs(xs - x)))

    def _scene_x(self, pos) -> float | None:
        """The data x under a scene position, if it lies over one of the rows."""
        for plot in self._row_plots():
            if plot.scene() is not None and plot.isVisible() and plot.sceneBoundingRect().contains(pos):
                return float(plot.vb.mapSceneToView(pos).x())
        return None

    def _mouse_moved(self, pos) -> None:
        x = self._scene_x(pos)
        i = self._tick_near(x) if x is not None else None
        if i is None:
            for line in self._hover_lines:
                line.setVisible(False)
            return
        self.show_readout(i)

    def show_readout(self, i: int) -> None:
        """The crosshair at tick ``i`` and its numbers in words."""
        h = self.history
        x = (h.wall[i] / 60) if self.use_wall else h.kimg[i]
        for line in self._hover_lines:
            line.setPos(x)
            line.setVisible(True)
        self.hover_kimg = h.kimg[i]
        parts = [f"{h.kimg[i]:.1f} kimg", f"{h.wall[i] / 60:.1f} min", f"D {h.loss_d[i]:.4g}", f"G {h.loss_g[i]:.4g}"]
        if self.second_row == "alpha":
            parts.append(f"{h.resolution[i]}×{h.resolution[i]} {h.phase[i]} α {h.alpha[i]:.2f}")
        if i < len(h.augment_p) and not np.isnan(h.augment_p[i]):
            parts.append(f"p {h.augment_p[i]:.3f}")
        if i < len(h.augment_rv) and not np.isnan(h.augment_rv[i]):
            parts.append(f"r_v {h.augment_rv[i]:.2f}")
        parts.append(f"{h.img_per_s[i]:.0f} img/s")
        if h.swd_kimg:
            j = int(np.argmin(np.abs(np.asarray(h.swd_kimg) - h.kimg[i])))
            parts.append(f"MS-SWD {h.swd_mean[j]:.2f} at {h.swd_kimg[j]:.1f} kimg")
        if h.fid_kimg:
            j = int(np.argmin(np.abs(np.asarray(h.fid_kimg) - h.kimg[i])))
            n = None if math.isnan(h.fid_n[j]) else h.fid_n[j]      # kept beside each point
            few = n is not None and n < FID_RELIABLE         # singular covariances: FID biased, read KID
            parts.append(f"FID {h.fid[j]:.1f} · KID×1000 {1000 * h.kid[j]:.1f} at {h.fid_kimg[j]:.1f} kimg"
                         + (f" (n={n:.0f}{': read KID' if few else ''})" if n is not None else ""))
        self.readout.setText("  ·  ".join(parts))

    def _mouse_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        x = self._scene_x(event.scenePos())
        i = self._tick_near(x) if x is not None else None
        if i is not None:
            self.seek_requested.emit(float(self.history.kimg[i]))

    def set_marker(self, kimg: float | None) -> None:
        """Mark the grid the timeline shows (None: no mark)."""
        self.marker_kimg = kimg
        for line in self._marker_lines:
            line.setVisible(kimg is not None)
            if kimg is not None:
                line.setPos(self._x_of(kimg))

    # -------------------------------------------------------------- data
    @property
    def use_wall(self) -> bool:
        return self.x_axis.currentIndex() == 1

    def _options_changed(self, *args) -> None:
        self.smoothing_label.setText(f"{self.smoothing.value() / 100:.2f}")
        self.loss_plot.setLogMode(y=self.log_y.isChecked())
        self.speed_plot.setLabel("bottom", "wall-clock (min)" if self.use_wall else "kimg")
        self._drawn_version = -1
        if self.history is not None:
            self.refresh(self.history, force=True)
        self.set_marker(self.marker_kimg)           # the same grid, on the new axis
        self.x_mode_changed.emit("wall" if self.use_wall else "kimg")

    def clear(self) -> None:
        self.history = None
        self.set_marker(None)
        for line in self._hover_lines:
            line.setVisible(False)
        self.readout.setText(" ")
        self._drawn_version = -1
        for c in (self.curve_d_raw, self.curve_g_raw, self.curve_d, self.curve_g, self.curve_alpha,
                  self.curve_res, self.curve_speed, self.swd_points, self.curve_r1, self.curve_pl,
                  self.curve_pl_mean, self.curve_aug_p, self.curve_aug_rt, self.curve_aug_rv, self.curve_aug_target,
                  self.curve_fid, self.curve_fid_floor,
                  self.curve_kid, self.curve_kid_floor, *self.model_curves.values()):
            c.setData([], [])
        self._show_second_row("alpha")
        self._arrange_rows(False, False)
        for item in self._bands:
            self.loss_plot.removeItem(item)
        for item in self._lines:
            self.loss_plot.removeItem(item)
        self._bands, self._lines = [], []

    def _relist_model_legend(self, drawn: list) -> None:
        """The model row's legend names exactly ``drawn`` ((curve, name) pairs), in order, on one
        line. Rebuilt when the list changes: pyqtgraph's legend keeps the grid cells of removed
        entries, so a run that draws four curves after one that drew others got two lines."""
        legend = self.model_plot.legend
        if [(sample.item, label.text) for sample, label in legend.items] == drawn:
            return
        legend.clear()
        if legend.scene() is not None:          # (setParentItem(None) would re-anchor it to nothing)
            legend.scene().removeItem(legend)
        self.model_plot.legend = None            # addLegend returns the existing legend while one is set
        legend = self.model_plot.addLegend(offset=(10, 1), colCount=max(len(drawn), 1),
                                           brush=pg.mkBrush(255, 255, 255, 210))
        legend.layout.setContentsMargins(2, 0, 2, 0)   # one label high: the row is ~70 px at 1280×720
        for curve, name in drawn:
            legend.addItem(curve, name)

    @staticmethod
    def _legend_lists(plot, curve, name: str, shown: bool) -> None:
        """Whether ``plot``'s legend lists ``curve``."""
        legend = plot.legend
        listed = any(sample.item is curve for sample, _ in legend.items)
        if shown and not listed:
            legend.addItem(curve, name)
        elif listed and not shown:
            legend.removeItem(curve)

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What is drawn now (tests and exports read it)."""
        out = {}
        for name, c in (("loss_d", self.curve_d), ("loss_g", self.curve_g), ("alpha", self.curve_alpha),
                        ("resolution", self.curve_res), ("img_per_s", self.curve_speed), ("swd", self.swd_points),
                        ("r1", self.curve_r1), ("pl_penalty", self.curve_pl), ("pl_mean", self.curve_pl_mean),
                        ("augment_p", self.curve_aug_p), ("augment_rt", self.curve_aug_rt),
                        ("augment_rv", self.curve_aug_rv), ("augment_target", self.curve_aug_target),
                        ("fid", self.curve_fid), ("fid_floor", self.curve_fid_floor), ("kid", self.curve_kid),
                        ("kid_floor", self.curve_kid_floor), *self.model_curves.items()):
            x, y = c.getData()
            out[name] = (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))
        return out

    def refresh(self, history: RunHistory, force: bool = False) -> bool:
        self.history = history
        if not force and history.version == self._drawn_version:
            return False
        self._drawn_version = history.version
        if not history.kimg:
            return True
        x = np.asarray(history.wall) / 60.0 if self.use_wall else np.asarray(history.kimg)
        d, g = np.asarray(history.loss_d), np.asarray(history.loss_g)
        if self.log_y.isChecked():
            d, g = np.abs(d) + 1e-8, np.abs(g) + 1e-8
        w = self.smoothing.value() / 100.0
        self.curve_d_raw.setData(x, d)
        self.curve_g_raw.setData(x, g)
        self.curve_d.setData(x, smooth(d, w))
        self.curve_g.setData(x, smooth(g, w))
        self._show_second_row("regularisers" if history.shows_regularisers else
                              "model" if history.shows_model_stats else "alpha")
        if history.shows_model_stats:
            drawn = []
            for name, curve in self.model_curves.items():
                values = np.asarray(history.model_stats.get(name, []), float)
                have = ~np.isnan(values)
                curve.setData(x[have], smooth(values[have], w))
                if have.any():
                    drawn.append((curve, MODEL_CURVES[name]))
            self._relist_model_legend(drawn)
        if history.shows_regularisers:
            pl = np.asarray(history.pl_penalty)
            have = ~np.isnan(pl)
            self.curve_r1.setData(x, smooth(np.asarray(history.penalty), w))
            self.curve_pl.setData(x[have], smooth(pl[have], w))
            self.curve_pl_mean.setData(x, np.asarray(history.pl_mean))
        self._arrange_rows(history.shows_augmentation, history.shows_quality)
        if history.shows_quality:
            qx = np.asarray(history.fid_wall) / 60.0 if self.use_wall else np.asarray(history.fid_kimg)
            for curve, values, scale in ((self.curve_fid, history.fid, 1.0), (self.curve_fid_floor, history.fid_floor, 1.0),
                                         (self.curve_kid, history.kid, 1000.0),
                                         (self.curve_kid_floor, history.kid_floor, 1000.0)):
                v = np.asarray(values, float) * scale
                curve.setData(qx[~np.isnan(v)], v[~np.isnan(v)])
            tops = [np.nanmax(np.asarray(v, float) * k) for v, k in ((history.fid, 1), (history.kid, 1000))
                    if len(v) and not np.isnan(np.asarray(v, float)).all()]
            if tops:                    # FID and KID are read from zero too
                self.quality_plot.setYRange(0, max(tops) * 1.08 or 1.0, padding=0)
        if history.shows_augmentation:
            p, rt = np.asarray(history.augment_p), np.asarray(history.augment_rt)
            rv, target = np.asarray(history.augment_rv), np.asarray(history.augment_target)
            self.curve_aug_p.setData(x[~np.isnan(p)], p[~np.isnan(p)])
            # the signals swing from tick to tick: smoothed like the losses
            rv_run = history.follows_rv
            if rv_run:                  # p does not read r_t here: drawing it beside r_v's target misleads
                rt = np.full_like(rt, np.nan)
            self.curve_aug_rt.setData(x[~np.isnan(rt)], smooth(rt[~np.isnan(rt)], w))
            self.curve_aug_rv.setData(x[~np.isnan(rv)], smooth(rv[~np.isnan(rv)], w))
            self.curve_aug_target.setData(x[~np.isnan(target)], target[~np.isnan(target)])
            self.curve_aug_target.setPen(pg.mkPen((31, 119, 180) if rv_run else (127, 127, 127), width=1,
                                                  style=Qt.DotLine))
            # the legend names only what this run draws (a fixed p has no signal; r_t runs no r_v)
            for curve, name, drawn in ((self.curve_aug_rt, "r_t (ADA)", bool((~np.isnan(rt)).any())),
                                       (self.curve_aug_rv, "r_v (held-out)", rv_run),
                                       (self.curve_aug_target, "target", bool((~np.isnan(target)).any()))):
                self._legend_lists(self.aug_plot, curve, name, drawn)
        self.curve_alpha.setData(*alpha_path(x, history))
        # a tick's resolution held over the whole tick that ends at it (the first from the start):
        # steps, not ramps
        edges = np.concatenate([[min(0.0, x[0])], x])
        self.curve_res.setData(edges, np.log2(np.asarray(history.resolution, float)))
        levels = sorted(set(history.resolution))
        self.res_axis.plot.getAxis("right").setTicks([[(math.log2(r), str(r)) for r in levels]])
        self.res_axis.right.setYRange(math.log2(min(levels)) - 0.3, math.log2(max(levels)) + 0.3)
        self.curve_speed.setData(x, np.asarray(history.img_per_s))
        lone = len(x) == 1               # one tick: a line of one point draws nothing, so mark it
        for curve, colour in ((self.curve_d, D_COLOR), (self.curve_g, G_COLOR), (self.curve_speed, (44, 160, 44))):
            curve.setSymbol("o" if lone else None)
            curve.setSymbolSize(6)
            curve.setSymbolBrush(colour)
        self.speed_plot.getAxis("right").setVisible(bool(history.swd_kimg))
        if history.swd_kimg:
            sx = np.asarray(history.swd_wall) / 60.0 if self.use_wall else np.asarray(history.swd_kimg)
            values = np.asarray(history.swd_mean, float)
            self.swd_points.setData(sx, values)
            # a distance read from zero: autoscaling one point spreads 326.2-327.0 over the whole row
            self.swd_axis.right.setYRange(0, float(np.nanmax(values)) * 1.08 or 1.0, padding=0)
        self._draw_phases(history)
        return True

    def _show_second_row(self, which: str) -> None:
        """Put the α/resolution track, the regulariser plot or the model's own plot in the middle row."""
        if which == self.second_row:
            return
        plots = {"alpha": self.alpha_plot, "regularisers": self.reg_plot, "model": self.model_plot}
        self.canvas.removeItem(plots[self.second_row])
        self.canvas.addItem(plots[which], row=1, col=0)
        self.res_axis.right.setVisible(which == "alpha")    # it lives in the scene, not the layout
        self.second_row = which

    def _arrange_rows(self, augment: bool, quality: bool) -> None:
        """The augmentation row and the FID/KID row go between the middle row and the speed row
        (which stays last: it carries the x label)."""
        if (augment, quality) == (self.aug_row, self.quality_row):
            return
        for plot, shown in ((self.aug_plot, self.aug_row), (self.quality_plot, self.quality_row),
                            (self.speed_plot, True)):
            if shown:
                self.canvas.removeItem(plot)
        row = 2
        for plot, on in ((self.aug_plot, augment), (self.quality_plot, quality), (self.speed_plot, True)):
            if on:
                self.canvas.addItem(plot, row=row, col=0)
                row += 1
        self.aug_row, self.quality_row = augment, quality

    def _draw_phases(self, history: RunHistory) -> None:
        spans = history.phase_spans()
        single_resolution = len({s.resolution for s in spans}) <= 1 and all(s.kind == "stabilize" for s in spans)
        if single_resolution:
            spans = []
        while len(self._bands) < len(spans):
            band = pg.LinearRegionItem(movable=False)
            band.setZValue(-10)
            for line in band.lines:
                line.setPen(pg.mkPen(None))
            self.loss_plot.addItem(band)
            self._bands.append(band)
        growth = [s for s in spans if s.kind == "fade"]
        while len(self._lines) < len(growth):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen((120, 120, 120), style=Qt.DotLine),
                                   label="", labelOpts={"position": 0.92, "color": (60, 60, 60)})
            self.loss_plot.addItem(line)
            self._lines.append(line)
        for band, s in zip(self._bands, spans):
            lo, hi = (s.start_wall / 60, s.end_wall / 60) if self.use_wall else (s.start_kimg, s.end_kimg)
            band.setRegion((lo, hi))
            band.setBrush(FADE_BRUSH if s.kind == "fade" else STAB_BRUSH)
        for line, s in zip(self._lines, growth):
            line.setPos(s.start_wall / 60 if self.use_wall else s.start_kimg)
            line.label.setFormat(f"{s.resolution}×{s.resolution}")
