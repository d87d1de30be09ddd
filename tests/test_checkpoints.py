"""Tests of ddpm_lib.checkpoints: round trip, bit-identical resume, corrupt files, atomic writes."""
import os

import pytest
import torch

from ddpm_lib import checkpoints
from ddpm_lib.checkpoints import load_checkpoint, save_checkpoint
from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.models import EpsMLP, TinyUNet
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.training import TrainConfig, train

torch.set_num_threads(1)
SCHED = linear_schedule(100, beta_start=1e-3, beta_end=0.2)
DATA = ring_mixture().sample(512, generator=torch.Generator().manual_seed(0)).float()


def _cfg(steps, **kw):
    kw.setdefault("lr_schedule", "constant")   # these tests resume with other `steps`: a run-only field then
    return TrainConfig(steps=steps, batch_size=64, progress=False, device="cpu", log_every=10, seed=3, **kw)


def _model():
    torch.manual_seed(0)
    return EpsMLP(width=32, depth=2, n_steps=100)


def _flat(m):
    return torch.cat([p.detach().flatten() for p in m.parameters()])


@pytest.fixture
def deterministic():
    old = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(old)


@pytest.mark.parametrize("kw", [{}, {"lr_schedule": "cosine", "warmup_steps": 5, "weight_decay": 0.01}])
def test_resume_is_bit_identical(tmp_path, deterministic, kw):
    n = 40
    full = train(_model(), DATA, SCHED, _cfg(2 * n, **kw))
    path = tmp_path / "half.pt"
    # the first half is run with the same horizon (the cosine schedule depends on it) and stopped at n
    half = train(_model(), DATA, SCHED, _cfg(2 * n, **kw), checkpoint=path,
                 callback=lambda s: s.step >= n, callback_every=n)
    assert half.step == n and load_checkpoint(path).step == n
    resumed = train(_model(), DATA, SCHED, _cfg(2 * n, **kw), resume_from=path)
    assert resumed.step == 2 * n
    assert torch.equal(_flat(full.model), _flat(resumed.model))
    assert torch.equal(_flat(full.ema_model), _flat(resumed.ema_model))
    assert full.history["loss"] == resumed.history["loss"]
    assert torch.equal(full.generator.get_state(), resumed.generator.get_state())


def test_round_trip_rebuilds_the_model(tmp_path):
    r = train(_model(), DATA, SCHED, _cfg(10), checkpoint=tmp_path / "c.pt", checkpoint_extra={"data": "mixture"})
    ck = load_checkpoint(tmp_path / "c.pt")
    assert ck.step == 10 and ck.model_config == r.model.config() and ck.extra == {"data": "mixture"}
    assert torch.equal(_flat(ck.model), _flat(r.model)) and torch.equal(_flat(ck.ema_model), _flat(r.ema_model))
    assert torch.equal(ck.schedule().betas, SCHED.betas.to(ck.schedule().betas.dtype))
    assert ck.train_config["seed"] == 3 and len(ck.history["loss"]) == 10
    assert set(ck.rng_state) >= {"data", "torch"}
    # the file is plain data: loadable with weights_only=True
    obj = torch.load(tmp_path / "c.pt", weights_only=True)
    assert obj["format"] == checkpoints.FORMAT and obj["version"] == checkpoints.VERSION


def _good(tmp_path):
    m = _model()
    opt = torch.optim.AdamW(m.parameters())
    return save_checkpoint(tmp_path / "good.pt", m, m, opt, 0, {"steps": 1}, {"data": torch.Generator().get_state()})


def test_truncated(tmp_path):
    good = _good(tmp_path)
    data = good.read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.pt.*(truncated|corrupt)"):
        load_checkpoint(bad)


def test_foreign_files(tmp_path):
    tensor_file = tmp_path / "tensor.pt"
    torch.save(torch.randn(3, 3), tensor_file)
    with pytest.raises(ValueError, match="tensor.pt: not a ddpm_lib checkpoint.*tensor"):
        load_checkpoint(tensor_file)
    dict_file = tmp_path / "dict.pt"
    torch.save({"state_dict": {}}, dict_file)
    with pytest.raises(ValueError, match="dict.pt: not a ddpm_lib checkpoint"):
        load_checkpoint(dict_file)
    noise = tmp_path / "noise.pt"
    noise.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match="noise.pt"):
        load_checkpoint(noise)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_future_version(tmp_path):
    obj = torch.load(_good(tmp_path), weights_only=True)
    obj["version"] = 99
    torch.save(obj, tmp_path / "future.pt")
    with pytest.raises(ValueError, match="future.pt.*version 99"):
        load_checkpoint(tmp_path / "future.pt")


def test_mismatched_architecture(tmp_path):
    good = _good(tmp_path)
    with pytest.raises(ValueError, match="good.pt.*different architecture.*width"):
        load_checkpoint(good, model=EpsMLP(width=16, depth=2, n_steps=100))
    with pytest.raises(ValueError, match="good.pt.*different architecture"):
        load_checkpoint(good, model=TinyUNet(base=8, n_steps=100))
    # same config, tampered weights
    obj = torch.load(good, weights_only=True)
    obj["model"]["inp.weight"] = torch.zeros(5, 5)
    torch.save(obj, tmp_path / "tampered.pt")
    with pytest.raises(ValueError, match="tampered.pt.*do not fit"):
        load_checkpoint(tmp_path / "tampered.pt")


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    good = _good(tmp_path)
    before = good.read_bytes()
    real_save = torch.save

    def failing_save(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    m = _model()
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(good, m, m, None, 5)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "new.pt", m, m, None, 5)
    monkeypatch.setattr(torch, "save", real_save)
    assert good.read_bytes() == before                      # the old checkpoint is untouched
    assert not (tmp_path / "new.pt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pt"]  # no temp file left behind


def test_export_for_sampling_is_small_and_loads(tmp_path):
    """The sampling export keeps the EMA weights only; it loads, and refuses to resume training."""
    from ddpm_lib.checkpoints import export_for_sampling
    from ddpm_lib.models import TinyUNet

    model, ema = TinyUNet(), TinyUNet()
    with torch.no_grad():
        for p in ema.parameters():
            p.add_(1.0)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.zeros(2, 1, 8, 8), torch.tensor([1, 2])).sum().backward()
    opt.step()
    full = save_checkpoint(tmp_path / "full.pt", model, ema, opt, step=3)
    slim = export_for_sampling(full, tmp_path / "slim.pt")
    assert slim.stat().st_size < 0.4 * full.stat().st_size
    ck = load_checkpoint(slim)
    for a, b in zip(ck.ema_model.parameters(), ema.parameters()):
        assert torch.equal(a, b)
    assert ck.step == 3 and ck.extra["sampling_only"]
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(slim, optimizer=torch.optim.AdamW(TinyUNet().parameters()))


def test_a_stale_temporary_file_is_removed_by_the_next_save(tmp_path):
    """A save killed mid-write (SIGKILL) leaves ``.<name>.<pid>.<random>.partial``; the next save removes it,
    but not the temporary file of a process that still runs, nor other files."""
    good = _good(tmp_path)
    dead_pid = 2 ** 22 + 7  # above Linux's pid_max: no such process
    stale = tmp_path / f".good.pt.{dead_pid}.abc123.partial"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".good.pt.{os.getppid()}.def456.partial"
    live.write_bytes(b"y")
    other = tmp_path / f".other.pt.{dead_pid}.abc.partial"
    other.write_bytes(b"z")
    m = _model()
    save_checkpoint(good, m, m, None, 1)
    assert not stale.exists() and live.exists() and other.exists()
    assert load_checkpoint(good).step == 1


def test_temporary_file_name_is_identifiable(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    _good(tmp_path)
    assert seen and seen[0].startswith(f".good.pt.{os.getpid()}.") and seen[0].endswith(".partial")


def test_resume_refuses_another_configuration_before_touching_the_model(tmp_path):
    path = tmp_path / "c.pt"
    train(_model(), DATA, SCHED, _cfg(10), checkpoint=path)
    m = _model()
    before = _flat(m).clone()
    with pytest.raises(ValueError, match=r"different configuration: batch_size: 64 in the checkpoint vs 32 now; "
                                         r"lr: 0.002 in the checkpoint vs 0.01 now$"):
        train(m, DATA, SCHED, TrainConfig(steps=20, batch_size=32, lr=1e-2, progress=False, device="cpu",
                                          log_every=10, seed=3, lr_schedule="constant"), resume_from=path)
    with pytest.raises(ValueError, match="at step 10, beyond steps=5"):
        train(m, DATA, SCHED, _cfg(5), resume_from=path)
    with pytest.raises(ValueError, match="different model.*width"):
        train(EpsMLP(width=16, depth=2, n_steps=100), DATA, SCHED, _cfg(20), resume_from=path)
    with pytest.raises(ValueError, match="cosine"):  # the lr schedule differs
        train(m, DATA, SCHED, _cfg(20, lr_schedule="cosine"), resume_from=path)
    checkpoints.export_for_sampling(path, tmp_path / "e.pt")
    with pytest.raises(ValueError, match="sampling-only export"):
        train(m, DATA, SCHED, _cfg(20), resume_from=tmp_path / "e.pt")
    assert torch.equal(_flat(m), before)
    # run-only fields (steps with a constant lr, logging, device) may change
    r = train(m, DATA, SCHED, TrainConfig(steps=12, batch_size=64, progress=False, device="cpu", log_every=3,
                                          seed=3, lr_schedule="constant"), resume_from=path)
    assert r.step == 12 and r.history["start_step"] == 10


def test_scheduler_and_ema_state_are_saved(tmp_path):
    path = tmp_path / "c.pt"
    train(_model(), DATA, SCHED, _cfg(7, lr_schedule="cosine", warmup_steps=3), checkpoint=path)
    ck = load_checkpoint(path)
    assert ck.scheduler_state["last_epoch"] == 7 and ck.ema_updates == 8  # the initial copy counts once
    obj = torch.load(path, weights_only=True)
    obj["version"], obj["scheduler"], obj["ema_updates"] = 1, None, None  # a version-1 file
    torch.save(obj, tmp_path / "v1.pt")
    assert load_checkpoint(tmp_path / "v1.pt").step == 7  # still loads for sampling
    with pytest.raises(ValueError, match="no scheduler, EMA state"):
        train(_model(), DATA, SCHED, _cfg(7, lr_schedule="cosine", warmup_steps=3), resume_from=tmp_path / "v1.pt")


def test_lr_min_ratio_matters_on_resume_only_to_a_cosine_learning_rate():
    """The cosine's end point lr_min_ratio does not change a constant-lr run: resuming one with another
    value is allowed; with a cosine on either side it is another training and is refused."""
    saved = _cfg(10, lr_min_ratio=0.1).to_dict()
    assert _cfg(20, lr_min_ratio=0.0).resume_mismatches(saved) == []
    cos = _cfg(10, lr_schedule="cosine", lr_min_ratio=0.1).to_dict()
    assert _cfg(10, lr_schedule="cosine", lr_min_ratio=0.0).resume_mismatches(cos) == [("lr_min_ratio", 0.1, 0.0)]
    assert [m[0] for m in _cfg(10, lr_min_ratio=0.0).resume_mismatches(cos)] == ["lr_schedule", "lr_min_ratio"]
