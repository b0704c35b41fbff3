"""The run queue: presets × seeds planned with the data set's settings, trained one after another
in their own folders, a failure marked and passed, a stop resumed, one process at a time."""
import json

import pytest

from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.storage.runlock import RunLock, RunLockedError
from pgstudio.core.training.run_queue import QueueError, RunQueue, plan
from tests.conftest import tiny_config


def small(shapes_folder, **kw):
    return tiny_config(shapes_folder, arch="classic", loss="logistic", r1_gamma=0.0, classes="off", max_kimg=0.128,
                       resolution=8, **kw)


def test_a_plan_crosses_presets_and_seeds_and_keeps_the_data_sets_settings(shapes_folder):
    base = small(shapes_folder, metric_kimg=0.064, device="cpu")
    runs = plan(base, ["dcgan", "wgan-gp"], [0, 1])
    assert [r.name for r in runs] == ["dcgan-seed0", "dcgan-seed1", "wgan-gp-seed0", "wgan-gp-seed1"]
    cfgs = [r.train_config() for r in runs]
    assert [c.seed for c in cfgs] == [0, 1, 0, 1]
    assert {(c.preset, c.loss) for c in cfgs} == {("dcgan", "logistic"), ("wgan-gp", "wgan-gp")}
    for c in cfgs:            # the data set's and the budget's settings, whatever the preset
        assert (c.data, c.resolution, c.max_kimg, c.metric_kimg, c.arch) == (base.data, 8, 0.128, 0.064, "classic")
    assert cfgs[2].n_critic == 5 and cfgs[0].n_critic == 1          # each preset its own recipe
    one = plan(base, None, [3, 4])
    assert [r.name for r in one] == ["test-seed3", "test-seed4"] and one[1].train_config().loss == "logistic"
    assert [r.name for r in plan(base, ["sngan"])] == ["sngan"]


def test_a_queue_trains_in_order_passes_a_failure_and_resumes_a_stop(tmp_path, shapes_folder):
    base = small(shapes_folder)
    runs = plan(base, ["dcgan", "cgan", "lsgan"])          # cGAN needs classes: this flat use has them off
    runs[1].config["classes"] = "on"
    runs[1].config["data"] = str(tmp_path / "no-such-folder")          # cannot start: marked, passed
    queue = RunQueue.create(tmp_path / "q", runs)
    order = []

    def stop_the_third(trainer):
        if trainer.run_folder.path.name == "lsgan" and not order.count("lsgan"):
            trainer.on_event = lambda event: trainer.control.request_stop()       # at the first safe point
        order.append(trainer.run_folder.path.name)
        return trainer.run()
    counts = queue.train(drive=stop_the_third)
    assert order == ["dcgan", "lsgan"]
    assert counts == {"done": 1, "stopped": 1, "failed": 1}
    again = RunQueue(tmp_path / "q")                       # as another process reads it
    states = {r.name: (r.state, r.message) for r in again.runs}
    assert states["dcgan"][0] == "done"
    assert states["cgan"][0] == "failed" and "no-such-folder" in states["cgan"][1]
    assert states["lsgan"][0] == "stopped" and RunFolder(tmp_path / "q" / "lsgan").checkpoints()
    assert again.next_run().name == "lsgan"
    assert again.train() == {"done": 2, "failed": 1}        # the stopped run resumed and finished
    assert RunFolder(tmp_path / "q" / "lsgan").read_config().preset == "lsgan"


def test_one_process_at_a_time_and_bad_queues_say_so(tmp_path, shapes_folder):
    queue = RunQueue.create(tmp_path / "q", plan(small(shapes_folder), ["dcgan"]))
    with pytest.raises(QueueError, match="already holds a queue"):
        RunQueue.create(tmp_path / "q", plan(small(shapes_folder), ["dcgan"]))
    lock = RunLock.acquire(tmp_path / "q")
    try:
        with pytest.raises(RunLockedError):
            queue.train()
    finally:
        lock.release()
    (tmp_path / "q" / "queue.json").write_text("{ not json")
    with pytest.raises(QueueError, match="not a readable queue"):
        RunQueue(tmp_path / "q")
    with pytest.raises(QueueError, match="no queue here"):
        RunQueue(tmp_path / "elsewhere")
    with pytest.raises(QueueError, match="share a folder"):
        plan(small(shapes_folder), ["dcgan", "dcgan"])


def test_the_cli_builds_lists_and_continues_a_queue(tmp_path, shapes_folder, capsys):
    from pgstudio.cli import main
    (tmp_path / "flat").mkdir()
    for i, p in enumerate(sorted(shapes_folder.rglob("*.png"))[:48]):
        (tmp_path / "flat" / f"{i}.png").write_bytes(p.read_bytes())
    code = main(["queue", str(tmp_path / "q"), "--data", str(tmp_path / "flat"), "--recipes", "dcgan,lsgan",
                 "--seeds", "0,1", "--resolution", "8", "--max-kimg", "0.064", "--device", "cpu", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "[4/4] lsgan-seed1" in out and "4 runs (4 done)" in out
    assert sorted(p.name for p in (tmp_path / "q").iterdir() if RunFolder(p).is_run()) == \
        ["dcgan-seed0", "dcgan-seed1", "lsgan-seed0", "lsgan-seed1"]
    saved = json.loads((tmp_path / "q" / "queue.json").read_text())
    assert [r["state"] for r in saved["runs"]] == ["done"] * 4
    assert main(["queue", str(tmp_path / "q"), "--list"]) == 0
    assert "dcgan-seed1" in capsys.readouterr().out
    assert main(["queue", str(tmp_path / "q"), "--recipes", "gan"]) == 2          # not over an existing queue
    assert "already holds a queue" in capsys.readouterr().err
    assert main(["queue", str(tmp_path / "q2"), "--recipes", "dcgan"]) == 2
    assert "--data DIR or --demo" in capsys.readouterr().err
