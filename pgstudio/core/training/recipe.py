"""A family's training maths: the random draws of a step and its phases (D main with its
penalty, G main, G regularisation), in the manner of stylegan2-ada's ``loss.py``.

The step (step.py) calls the phases in order and owns what is the same for every family
(learning rates, memory retry, optimizer steps, gradient averaging, the EMA); this base class
holds the maths both families share — the loss chosen by name, R1 (lazy) or the WGAN gradient
penalty — and a family subclasses it to add its own draws, inputs and regularisers.

Every random number of a step is drawn in ``draw``, for the global batch and in a fixed order,
before any network runs: a rank keeps its slice, a memory split cuts the slice into
micro-batches, and the run stays on one trajectory either way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch

from . import augment as aug
from . import losses
from .labels import ClassDraws
from .schedule_point import SchedulePoint
from .tick_stats import TickStats


@dataclass
class StepDraws:
    """Everything random in one step, for this rank's share of the batch."""
    reals: torch.Tensor
    z_d: torch.Tensor
    eps: torch.Tensor | None          # WGAN-GP's interpolation weights
    z_g: torch.Tensor
    with_r1: bool
    extra: dict = field(default_factory=dict)     # a family's own draws
    augment: dict = field(default_factory=dict)   # "real", "fake_d", "fake_g" → AugmentDraws (when on)
    # a conditional run's labels: "d" the reals' (D's fakes take them too, so a WGAN-GP interpolate
    # has one label), "g" G's own draw, and a family's own (e.g. "pl"); empty when unconditional
    labels: dict = field(default_factory=dict)


class Recipe:
    def __init__(self, cfg, *, G, D, G_fast, D_fast, device: torch.device, dist, rng: torch.Generator,
                 precision: str, stats: TickStats, autocast: bool = True, classes: ClassDraws | None = None,
                 heldout=None):
        self.cfg, self.G, self.D, self.G_fast, self.D_fast = cfg, G, D, G_fast, D_fast
        self.heldout = heldout            # r_v's held-out reals (a RealSampler over heldout.py's split), else None
        self.classes = classes            # a conditional run's label draws (labels.py), else None
        self.device, self.dist, self.rng, self.stats = device, dist, rng, stats
        self.autocast_on = precision == "bf16" and autocast
        # augmentation of every image D sees (augment.py); None when off, so nothing of it runs
        self.strength = (aug.AugmentStrength(cfg.augment, cfg.augment_p, cfg.ada_target, cfg.ada_kimg, device,
                                             signal=cfg.ada_signal if cfg.augment == "ada" else "rt")
                         if getattr(cfg, "augment", "off") != "off" else None)
        if self.strength is not None and self.strength.signal == "rv" and heldout is None:
            raise ValueError("adaptive augmentation by r_v needs held-out images (config ada_heldout is 0)")

    # --- lazy regularisation: a term computed every k minibatches (config lazy_regularization)
    # "steps": its own backward and optimizer step, k + 1 steps per k minibatches, with Adam's
    #   lr × k/(k+1) and β^(k/(k+1)) (the official loop's Dreg/Greg phases and its correction);
    # "folded": added to that minibatch's gradients, one step per minibatch, no correction;
    # "folded-corrected": folded but corrected all the same (runs from before the key; k > 1 only)
    def uses_r1(self) -> bool:
        """R1 (and R2 on fakes with the relativistic loss) with a positive γ, for every loss but the
        Wasserstein ones (WGAN-GP has its own penalty; WGAN clips) and the energies of an
        autoencoder D (EBGAN, BEGAN), whose papers regularise otherwise."""
        return self.cfg.loss not in ("wgan-gp", "wgan", "ebgan", "began") and self.cfg.r1_gamma > 0

    def uses_r2(self) -> bool:
        """R3GAN's zero-centred penalty on fakes beside R1, same γ (the relativistic loss)."""
        return self.uses_r1() and self.cfg.loss in losses.RELATIVISTIC

    # --- the balance of D's and G's steps, and what follows D's
    def trains_g(self, step: int) -> bool:
        """G takes its step on every n_critic-th step, after n_critic − 1 steps of D alone (the
        WGAN papers' critic iterations; 1: every step)."""
        n = getattr(self.cfg, "n_critic", 1)
        return step % n == n - 1

    def after_d_step(self, D: torch.nn.Module) -> None:
        """After D's optimizer step(s): WGAN clips every critic weight to [−c, c] (Arjovsky et
        al., Algorithm 1: all of D's parameters, biases and normalisation scales included)."""
        if self.cfg.loss == "wgan":
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-self.cfg.wgan_clip, self.cfg.wgan_clip)

    def regularizes_in_own_steps(self) -> bool:
        return self.cfg.lazy_regularization == "steps"

    def lazy_ratio(self, regularizes: bool, interval: int) -> float:
        """The Adam correction's k/(k+1) for a regulariser run every ``interval`` minibatches (1: none)."""
        mode = self.cfg.lazy_regularization
        if not regularizes or mode == "folded" or (mode == "folded-corrected" and interval <= 1):
            return 1.0
        return interval / (interval + 1)

    def d_adam_ratio(self) -> float:
        return self.lazy_ratio(self.uses_r1(), self.cfg.r1_interval)

    def g_adam_ratio(self) -> float:
        return 1.0

    # --- the step's inputs
    def prepare_reals(self, reals: torch.Tensor, pt: SchedulePoint) -> torch.Tensor:
        """Real images as D must see them at this point of the schedule."""
        return reals

    def draw(self, pt: SchedulePoint, reals: torch.Tensor, step: int, d_steps: int,
             real_labels: torch.Tensor | None = None) -> StepDraws:
        cfg, batch = self.cfg, pt.batch
        mine = self.dist.local_slice(batch)      # every rank draws the global batch, trains its slice
        z_d = torch.randn(batch, cfg.latent_size, device=self.device, generator=self.rng)[mine]
        eps = (torch.rand(batch, 1, 1, 1, device=self.device, generator=self.rng)[mine]
               if cfg.loss == "wgan-gp" else None)
        z_g = torch.randn(batch, cfg.latent_size, device=self.device, generator=self.rng)[mine]
        with_r1 = self.uses_r1() and d_steps % cfg.r1_interval == 0
        draws = StepDraws(reals, z_d, eps, z_g, with_r1)
        draws.extra = self.draw_extra(pt, mine, step)   # after the shared draws: their order never moves
        if self.strength is not None and self.strength.p > 0:     # last: a run without draws none
            draws.augment = {which: self._augment_draws(pt, mine) for which in ("real", "fake_d", "fake_g")}
        if self.classes is not None:       # after everything else: an unconditional run draws none
            draws.labels = {"d": real_labels, "g": self.classes.fake_labels(batch, self.device, self.rng)[mine],
                            **self.draw_labels_extra(draws, pt)}
        return draws

    def _augment_draws(self, pt: SchedulePoint, mine: slice) -> aug.AugmentDraws:
        """One batch's augmentation at the current p, drawn for the global batch; this rank's rows."""
        return aug.draw(pt.batch, self.strength.p, pt.resolution, pt.resolution, self.device, self.rng)[mine]

    def draw_labels_extra(self, draws: StepDraws, pt: SchedulePoint) -> dict:
        """A family's own labels (for its own draws in ``extra``), drawn after the shared ones."""
        return {}

    def labels(self, draws: StepDraws, which: str, i: int, parts: int) -> dict:
        """The ``labels`` keyword of G and D for micro-batch i of the "d" or "g" pass ({} unconditional)."""
        labels = draws.labels.get(which)
        return {} if labels is None else {"labels": labels.chunk(parts)[i]}

    def augmented(self, x: torch.Tensor, draws: StepDraws, which: str, i: int, parts: int) -> torch.Tensor:
        """Images as D sees them: augmented with their draws (micro-batch i of ``parts``), when on."""
        d = draws.augment.get(which)
        if d is None:
            return x
        return aug.apply(x, d[aug.chunk_rows(d.geometric.shape[0], parts, i)])

    def draw_extra(self, pt: SchedulePoint, mine: slice, step: int) -> dict:
        return {}

    def generator_inputs(self, draws: StepDraws, which: str, i: int, parts: int) -> dict:
        """Extra keyword arguments of G for micro-batch i of the "d" or "g" pass."""
        return {}

    def begin_step(self, step: int) -> None:
        """Before the first pass of a step (after its draws)."""

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast_on)

    def alpha_input(self, pt: SchedulePoint):
        """α as the networks take it: a tensor while fading under torch.compile, so that it does
        not recompile for every new α."""
        return torch.full((), pt.alpha, device=self.device) if self.cfg.compile and pt.alpha < 1.0 else pt.alpha

    # --- phases
    def d_main(self, draws: StepDraws, pt: SchedulePoint, parts: int) -> tuple[torch.Tensor, torch.Tensor]:
        """D's loss and penalty over ``parts`` micro-batches, gradients accumulated; returns both means."""
        cfg, level, alpha_in = self.cfg, pt.level, self.alpha_input(pt)
        autocast = self.autocast()
        loss_sum = pen_sum = torch.zeros((), device=self.device)
        eps_parts = draws.eps.chunk(parts) if draws.eps is not None else [None] * parts
        real_scores, fake_scores = [], []   # for an adaptive p: handed over once every micro-batch has run, so
        for i, (r, zd, e) in enumerate(zip(draws.reals.chunk(parts), draws.z_d.chunk(parts), eps_parts)):
            labels = self.labels(draws, "d", i, parts)
            def critic(x, i=i, labels=labels, which="real"):   # eager (the penalties need a double backward);
                return self.D(self.augmented(x, draws, which, i, parts), level, pt.alpha, **labels)   # the gradient
            with torch.no_grad(), autocast:                                # through the augmentation
                fakes = self.G_fast(zd, level, alpha_in, **self.generator_inputs(draws, "d", i, parts), **labels)
            with autocast:
                scores_real = self.D_fast(self.augmented(r, draws, "real", i, parts), level, alpha_in, **labels)
                scores_fake = self.D_fast(self.augmented(fakes, draws, "fake_d", i, parts), level, alpha_in, **labels)
                extra = self.d_extra_loss(draws, i, parts)    # read from D's pass on the fakes, just made
            real_scores.append(scores_real.detach())     # a pass retried after an OOM counts once
            fake_scores.append(scores_fake.detach())
            loss = self.d_loss(scores_real, scores_fake)
            if extra is not None:
                loss = loss + extra
            pen = torch.zeros((), device=self.device)
            if e is not None:
                pen = cfg.gp_lambda * losses.gradient_penalty(critic, r, fakes, eps=e)
            elif draws.with_r1 and not self.regularizes_in_own_steps():
                pen = self._r1(critic, r)
                if self.uses_r2():
                    pen = pen + self._r1(partial(critic, which="fake_d"), fakes)
            ((loss + pen) / parts).backward()
            loss_sum, pen_sum = loss_sum + loss.detach(), pen_sum + pen.detach()
        if self.strength is not None:
            self.strength.observe(torch.cat(real_scores), torch.cat(fake_scores))
        self.observe_scores(torch.cat(real_scores), torch.cat(fake_scores))
        return loss_sum / parts, pen_sum / parts

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """D's loss for its scores on reals and fakes (the config's loss; a family may own others)."""
        return losses.discriminator_loss(self.cfg.loss, real, fake, self.cfg.drift if self.cfg.loss == "wgan-gp" else 0.0)

    def g_loss(self, fake: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
        """G's loss for D's scores on its fakes (and on the step's reals for a relativistic loss)."""
        return losses.generator_loss(self.cfg.loss, fake, real=real)

    def d_extra_loss(self, draws: StepDraws, i: int, parts: int) -> torch.Tensor | None:
        """A term of D's loss read from its pass on micro-batch i's fakes (InfoGAN's Q); none by default."""
        return None

    def g_extra_loss(self, draws: StepDraws, i: int, parts: int) -> torch.Tensor | None:
        """A term of G's loss read from D's pass on its fakes (InfoGAN's, EBGAN's pulling-away); none by default."""
        return None

    def observe_scores(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """D's scores on the step's reals and fakes, for a family that plots them (none by default)."""

    def _r1(self, critic, reals: torch.Tensor) -> torch.Tensor:
        """γ/2 · E‖∇D(x)‖² on reals (R1; on fakes it is R2), times the interval: the term stands
        for k minibatches' worth."""
        return (self.cfg.r1_gamma / 2) * losses.r1_penalty(critic, reals) * self.cfg.r1_interval

    def d_regularize(self, draws: StepDraws, pt: SchedulePoint, parts: int) -> torch.Tensor:
        """R1 as its own pass (the official Dreg phase): on the step's reals, augmented as D's
        main pass saw them, gradients accumulated over ``parts`` micro-batches; returns its mean."""
        pen_sum = torch.zeros((), device=self.device)
        for i, (r, zd) in enumerate(zip(draws.reals.chunk(parts), draws.z_d.chunk(parts))):
            labels = self.labels(draws, "d", i, parts)
            def critic(x, i=i, labels=labels, which="real"):
                return self.D(self.augmented(x, draws, which, i, parts), pt.level, pt.alpha, **labels)
            pen = self._r1(critic, r)
            if self.uses_r2():          # R2 on the step's fakes, made again (G unchanged since)
                with torch.no_grad(), self.autocast():
                    fakes = self.G_fast(zd, pt.level, self.alpha_input(pt),
                                        **self.generator_inputs(draws, "d", i, parts), **labels)
                pen = pen + self._r1(partial(critic, which="fake_d"), fakes)
            (pen / parts).backward()
            pen_sum = pen_sum + pen.detach()
        return pen_sum / parts

    def after_d_main(self, pt: SchedulePoint) -> None:
        """After D's passes, before its optimizer step (an adaptive p moves here; r_v scores its
        held-out batch with the weights the loss pass used)."""
        if self.strength is None:
            return
        if self.strength.wants_heldout:
            self.strength.observe_heldout(self._heldout_scores(pt))
        self.strength.step_done(self.dist)

    def _heldout_scores(self, pt: SchedulePoint) -> torch.Tensor:
        """D's scores on a batch of held-out reals, prepared and augmented as the training reals
        are (drawn from the training RNG for the global batch: a rank scores its slice)."""
        reals = self.prepare_reals(self.heldout.sample(pt), pt)
        labels = {} if self.heldout.last_labels is None else {"labels": self.heldout.last_labels}
        if self.strength.p > 0:
            reals = aug.apply(reals, self._augment_draws(pt, self.dist.local_slice(pt.batch)))
        with torch.no_grad(), self.autocast():
            return self.D_fast(reals, pt.level, self.alpha_input(pt), **labels)

    def g_main(self, draws: StepDraws, pt: SchedulePoint, parts: int) -> torch.Tensor:
        level, alpha_in, autocast = pt.level, self.alpha_input(pt), self.autocast()
        loss_sum = torch.zeros((), device=self.device)
        for i, zg in enumerate(draws.z_g.chunk(parts)):
            labels = self.labels(draws, "g", i, parts)
            with autocast:
                fakes = self.G_fast(zg, level, alpha_in, **self.generator_inputs(draws, "g", i, parts), **labels)
                scores = self.D_fast(self.augmented(fakes, draws, "fake_g", i, parts), level, alpha_in, **labels)
                extra = self.g_extra_loss(draws, i, parts)    # read from D's pass on the fakes, just made
                real_scores = None
                if self.cfg.loss in losses.RELATIVISTIC:     # paired with D's scores on the step's reals
                    reals = self.augmented(draws.reals.chunk(parts)[i], draws, "real", i, parts)
                    real_scores = self.D_fast(reals, level, alpha_in, **self.labels(draws, "d", i, parts))
                loss = self.g_loss(scores, real_scores)
                if extra is not None:
                    loss = loss + extra
            (loss / parts).backward()
            loss_sum = loss_sum + loss.detach()
        return loss_sum / parts

    def g_regularizes(self, draws: StepDraws) -> bool:
        """Whether G has a regulariser to run this step (its draws were made for it)."""
        return False

    def g_regularize(self, draws: StepDraws, pt: SchedulePoint) -> torch.Tensor | None:
        """A regulariser's backward on G after its main pass (into the same gradients, or into
        fresh ones for its own step): its value (None when none ran this step), reported to
        ``self.stats`` under the name its tick curve has."""
        return None

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        """After the EMA update of the weights: buffers the average must follow."""

    # --- what a tick and a checkpoint carry besides the shared statistics
    def tick_fields(self, means: dict) -> dict:
        if self.strength is None:
            return {}
        fields = {"augment_p": round(self.strength.p, 5), "augment_rt": self.strength.rt}
        if self.strength.adaptive:       # the level p steers the signal to, drawn beside it
            fields["augment_target"] = self.strength.target
        if self.strength.signal == "rv":          # as p last read it (None while D separates nothing)
            fields["augment_rv"] = None if self.strength.rv is None else round(self.strength.rv, 5)
        return fields

    def state_dict(self) -> dict:
        return {"augment": self.strength.state_dict()} if self.strength is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.strength is not None and "augment" in state:
            self.strength.load_state_dict(state["augment"])
