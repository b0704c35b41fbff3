"""Data-parallel training over torch.distributed (torchrun), kept out of the loop's way.

Every rank draws the *global* minibatch from the same seeded generator (indices, latents,
penalty ε) and trains on its own slice; gradients are averaged across ranks before each
optimiser step. So the schedule counts global images, every rank holds identical weights and
EMA, the result matches a single process with the same global batch (up to float rounding),
and a checkpoint resumes on any number of processes. Only rank 0 writes the run folder.

Gradients are averaged with one flattened all-reduce per optimiser step rather than through
the DistributedDataParallel wrapper, as stylegan3's training loop does. DDP reduces from hooks
that fire as each parameter's gradient lands, once per backward, and this loop does not fit that:
- a parameter that only a penalty term reaches with zero gradient (the last bias under the
  gradient penalty) can come out wrongly reduced (pytorch/pytorch#47562); stylegan2-ada and
  rosinality's ports add ``0 * output`` terms to every loss to make the hooks fire;
- StyleGAN2's lazy path-length term is a second backward into the same gradients, and an
  out-of-memory split accumulates micro-batches: each needs ``no_sync`` bookkeeping, and a
  missed one reduces gradients twice (DDP does not support two backwards per step, #63929);
- the blocks not yet grown, and G's parameters during D's step, would need
  find_unused_parameters, a graph walk on every forward.
One explicit all-reduce after all backwards has none of these failure modes and costs the same
single communication per optimiser step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @classmethod
    def detect(cls) -> "DistContext":
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
        return cls()

    def local_slice(self, global_batch: int) -> slice:
        if global_batch % self.world:
            raise ValueError(f"the batch size {global_batch} does not divide over {self.world} processes")
        per = global_batch // self.world
        return slice(self.rank * per, (self.rank + 1) * per)

    def average_gradients(self, params) -> None:
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset:offset + n].view_as(g))
            offset += n

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The sum of ``values`` over every rank (the values themselves with one process)."""
        if self.active:
            values = values.clone()
            dist.all_reduce(values)
        return values

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        return self.sum(values) / self.world if self.active else values

    def any(self, flag: bool, device) -> bool:
        """True on every rank when it is True on any (a stop request must stop all ranks together)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def shutdown(self) -> None:
        """Wait for every rank (rank 0 writes the last grid and checkpoint after the loop), then
        take the process group down: a rank leaving while a peer still has gloo traffic in
        flight can abort with "terminate called without an active exception"."""
        if self.active and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


def init_from_environment() -> DistContext:
    """Under torchrun (WORLD_SIZE > 1): join the process group, NCCL on GPUs, gloo on CPUs."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend)
    return DistContext.detect()
