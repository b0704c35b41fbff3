"""The classic family's training maths: the shared phases (losses, penalties, n_critic and WGAN's
clipping live in training/recipe.py), plus InfoGAN's codes and mutual-information term, EBGAN's
margin and pulling-away term, BEGAN's proportional control k_t, and what batch and spectral
normalisation need of the averaged generator."""
from __future__ import annotations

import torch

from ...training import losses
from ...training.recipe import Recipe, StepDraws

WASSERSTEIN = ("wgan", "wgan-gp")


class ClassicRecipe(Recipe):
    def __init__(self, cfg, **parts):
        super().__init__(cfg, **parts)
        self.codes = self.G.codes                 # InfoGAN's codes (falsy: none)
        self.k = torch.zeros((), dtype=torch.float64)     # BEGAN's k_t, from 0 as in the paper
        self._energies: tuple[float, float] | None = None

    # --- InfoGAN: the codes each step's fakes are drawn with, after the shared draws
    def draw_extra(self, pt, mine: slice, step: int) -> dict:
        if not self.codes:
            return {}
        d = self.codes.draw(pt.batch, self.device, self.rng)
        g = self.codes.draw(pt.batch, self.device, self.rng)
        return {"codes_d": (d[0][mine], d[1][mine]), "codes_g": (g[0][mine], g[1][mine])}

    def _codes(self, draws: StepDraws, which: str, i: int, parts: int):
        categories, continuous = draws.extra[f"codes_{which}"]
        return categories.chunk(parts)[i], continuous.chunk(parts)[i]

    def generator_inputs(self, draws: StepDraws, which: str, i: int, parts: int) -> dict:
        if not self.codes:
            return {}
        return {"codes": self.codes.rows(*self._codes(draws, which, i, parts))}

    def _information(self, draws: StepDraws, which: str, i: int, parts: int) -> torch.Tensor:
        """λ·L_I of Q's reading of the fakes D just scored, against the codes they were made with."""
        categories, continuous = self._codes(draws, which, i, parts)
        loss, bound = self.codes.information_loss(self.D.q(), categories, continuous, self.cfg.info_lambda,
                                                  self.cfg.info_lambda_continuous)
        self.stats.report(f"mi_bound_{which}", bound)
        return loss

    def d_extra_loss(self, draws: StepDraws, i: int, parts: int) -> torch.Tensor | None:
        return self._information(draws, "d", i, parts) if self.codes else None

    def g_extra_loss(self, draws: StepDraws, i: int, parts: int) -> torch.Tensor | None:
        extra = self._information(draws, "g", i, parts) if self.codes else None
        if self.cfg.loss == "ebgan" and self.cfg.ebgan_pt_weight > 0:     # on the encodings of G's fakes
            pt = losses.pulling_away(self.D.last_features)
            self.stats.report("pulling_away", pt.detach())
            term = self.cfg.ebgan_pt_weight * pt
            extra = term if extra is None else extra + term
        return extra

    # --- EBGAN and BEGAN: D's scores are energies
    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if self.cfg.loss == "ebgan":
            return losses.ebgan_discriminator_loss(real, fake, self.cfg.ebgan_margin)
        if self.cfg.loss == "began":
            return losses.began_discriminator_loss(real, fake, float(self.k))
        return super().d_loss(real, fake)

    def g_loss(self, fake: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
        if self.cfg.loss in ("ebgan", "began"):        # G lowers its fakes' energy
            return fake.float().mean()
        return super().g_loss(fake, real)

    def observe_scores(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """D's mean score on reals and on fakes: the curves the survey's papers watch (DCGAN's
        D(x) and D(G(z)); for a Wasserstein critic their difference estimates the distance; for
        an autoencoder D they are the energies)."""
        real_mean, fake_mean = real.float().mean(), fake.float().mean()
        self.stats.report("d_real", real_mean)
        self.stats.report("d_fake", fake_mean)
        if self.cfg.loss == "began":
            self._energies = (float(real_mean), float(fake_mean))

    def after_d_step(self, D: torch.nn.Module) -> None:
        """BEGAN moves k_t after D's step, from that step's energies (L(G(z)) of the fakes D saw:
        G is the same until its own step); M_global is reported with it."""
        super().after_d_step(D)
        if self.cfg.loss == "began" and self._energies is not None:
            real, fake = self._energies
            self.k.fill_(losses.began_k_update(float(self.k), real, fake, self.cfg.began_gamma, self.cfg.began_lambda_k))
            self.stats.report("k_t", self.k.float().to(self.device))
            self.stats.report("m_global", torch.tensor(losses.began_convergence(real, fake, self.cfg.began_gamma),
                                                       device=self.device))
            self._energies = None

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        """The EMA averages parameters only; G's buffers — batch norm's running statistics and
        spectral norm's power-iteration vectors — are copied, so that the averaged generator
        samples (in eval mode) with statistics of the generator it follows."""
        for mine, theirs in zip(G_ema.buffers(), self.G.buffers()):
            mine.copy_(theirs)

    def tick_fields(self, means: dict) -> dict:
        fields = {**super().tick_fields(means), "d_real": means.get("d_real"), "d_fake": means.get("d_fake")}
        if self.cfg.loss in WASSERSTEIN and fields["d_real"] is not None:
            fields["w_distance"] = fields["d_real"] - fields["d_fake"]
        for name in ("k_t", "m_global", "pulling_away"):
            if name in means:
                fields[name] = means[name]
        if "mi_bound_g" in means or "mi_bound_d" in means:
            fields["mi_bound"] = means.get("mi_bound_g", means.get("mi_bound_d"))
        return fields

    def state_dict(self) -> dict:
        return {**super().state_dict(), **({"began_k": float(self.k)} if self.cfg.loss == "began" else {})}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "began_k" in state:
            self.k.fill_(float(state["began_k"]))
