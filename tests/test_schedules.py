"""KL schedules: their values at known steps, and that they really drive training."""

import keras
import numpy as np
import pytest

from vaecore import build_vae
from vaecore.schedules import CapacityAnnealing, CyclicalKL, KLWarmup, from_spec

DENSE = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_dense"}


@pytest.fixture(scope="module")
def images():
    return (np.random.default_rng(0).random((64, 8, 8, 1)) > 0.5).astype("float32")


def test_warmup_values():
    schedule = KLWarmup(4, beta=2.0)
    assert [schedule.weight(s) for s in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]


def test_cyclical_values_follow_fu_et_al():
    # cycles of 100 steps: rise over the first half, hold beta for the second
    schedule = CyclicalKL(100, ratio=0.5, beta=4.0, cycles=2)
    got = [schedule.weight(s) for s in (0, 25, 50, 99, 100, 125, 150, 199, 200, 225, 1000)]
    assert got == [0.0, 2.0, 4.0, 4.0, 0.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    endless = CyclicalKL(10, ratio=1.0, beta=1.0)
    assert [endless.weight(s) for s in (5, 15, 1005)] == [0.5, 0.5, 0.5]


def test_capacity_values():
    schedule = CapacityAnnealing(c_max=25.0, steps=100, gamma=1000.0)
    assert [schedule.capacity(s) for s in (0, 50, 100, 500)] == [0.0, 12.5, 25.0, 25.0]


def test_warmup_drives_the_logged_weight(images):
    """With one step per call, the schedule sets every step's weight: 8 steps of an
    epoch warming up over 4 steps log a mean weight of beta * (0.25+0.5+0.75+5*1)/8."""
    model = build_vae(DENSE, beta=2.0, seed=0)
    model.compile(optimizer="adam", steps_per_execution=1)
    history = model.fit(
        images, epochs=2, batch_size=8, verbose=0, callbacks=[KLWarmup(4)]
    ).history
    assert history["kl_weight"][0] == pytest.approx(2.0 * 6.5 / 8, rel=1e-6)
    assert history["kl_weight"][1] == pytest.approx(2.0, rel=1e-6)


def test_schedule_continues_from_the_optimizer_step(images):
    """A second fit (as after a resume) continues the schedule where it stopped."""
    model = build_vae(DENSE, beta=1.0, seed=0)
    model.compile(optimizer="adam", steps_per_execution=1)
    model.fit(images, epochs=1, batch_size=8, verbose=0, callbacks=[CyclicalKL(16)])
    later = model.fit(images, epochs=1, batch_size=8, verbose=0, callbacks=[CyclicalKL(16)])
    # steps 8..15 of a 16-step cycle with ratio 0.5: already at beta
    assert later.history["kl_weight"] == [pytest.approx(1.0)]


def test_model_kl_warmup_steps_is_a_warmup_callback(images):
    model = build_vae(DENSE, beta=2.0, kl_warmup_steps=4, seed=0)
    model.compile(optimizer="adam", steps_per_execution=1)
    history = model.fit(images, epochs=1, batch_size=8, verbose=0).history
    assert history["kl_weight"][0] == pytest.approx(2.0 * 6.5 / 8, rel=1e-6)


def test_capacity_annealing_trains_towards_c(images):
    keras.utils.set_random_seed(0)
    model = build_vae(DENSE, beta=1.0, kl_capacity=0.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=1)
    history = model.fit(
        images,
        epochs=6,
        batch_size=8,
        verbose=0,
        callbacks=[CapacityAnnealing(c_max=6.0, steps=16, gamma=50.0)],
    ).history
    assert history["kl_capacity"][-1] == pytest.approx(6.0)
    assert history["kl_weight"] == [pytest.approx(50.0)] * 6
    # gamma * |KL - C| pulls the KL up to the capacity, far above a plain VAE's on noise
    assert abs(history["kl_loss"][-1] - 6.0) < 1.5


def test_capacity_annealing_needs_a_capacity_model(images):
    model = build_vae(DENSE)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="kl_capacity"):
        model.fit(images, epochs=1, verbose=0, callbacks=[CapacityAnnealing(5.0, 10)])


def test_from_spec():
    assert isinstance(from_spec({"kind": "warmup", "steps": 10}), KLWarmup)
    cyc = from_spec({"kind": "cyclical", "cycle_steps": 50, "cycles": 3, "ratio": None})
    assert isinstance(cyc, CyclicalKL) and cyc.ratio == 0.5 and cyc.cycles == 3
    assert from_spec(None) is None
    with pytest.raises(ValueError, match="unknown KL schedule"):
        from_spec({"kind": "sawtooth"})
    with pytest.raises(ValueError, match="steps must be an int"):
        from_spec({"kind": "warmup", "steps": 0})
    with pytest.raises(ValueError, match="cyclical"):
        from_spec({"kind": "cyclical", "cycle_steps": 5, "period": 3})


def test_train_takes_a_schedule_and_fingerprints_it(tmp_path, images):
    import vaecore
    from vaecore.runs import RunFolderError

    def model():
        m = build_vae(DENSE, beta=1.0, seed=0)
        m.compile(optimizer="adam", steps_per_execution=1)
        return m

    spec = {"kind": "warmup", "steps": 8}
    history = vaecore.train(model(), images, 2, tmp_path, batch_size=8, verbose=0, kl_schedule=spec)
    # epoch 1 of 8 steps: (1 + ... + 8) / 8 / 8; epoch 2 at beta
    assert history["kl_weight"] == [pytest.approx(4.5 / 8), pytest.approx(1.0)]
    with pytest.raises(RunFolderError, match="kl_schedule"):
        vaecore.train(
            model(), images, 3, tmp_path, batch_size=8, verbose=0,
            kl_schedule={"kind": "warmup", "steps": 16},
        )  # fmt: skip


def test_hold_then_decay_values():
    """Known answers: 400 epochs hold 1e-3 to epoch 199, then 1e-3 * 0.1 ** ((e - 200) / 199)."""
    from vaecore.schedules import HoldThenDecay, hold_then_decay

    rates = [hold_then_decay(e, 400) for e in range(400)]
    assert rates[0] == rates[199] == 1e-3
    assert rates[200] == pytest.approx(1e-3)
    assert rates[299] == pytest.approx(1e-3 * 0.1 ** (99 / 199), rel=1e-12)
    assert rates[399] == pytest.approx(1e-4, rel=1e-12)
    assert hold_then_decay(500, 400) == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    # 4 epochs: 2 at base, then base and final
    assert [hold_then_decay(e, 4, base=1.0, final=0.01) for e in range(4)] == pytest.approx(
        [1.0, 1.0, 1.0, 0.01]
    )
    assert hold_then_decay(0, 1) == 1e-3 and hold_then_decay(3, 10, hold=0.0) == pytest.approx(
        1e-3 * 0.1 ** (3 / 9)
    )
    with pytest.raises(ValueError, match="epochs"):
        hold_then_decay(0, 0)
    with pytest.raises(ValueError, match="hold"):
        HoldThenDecay(10, hold=1.5)


def test_hold_then_decay_sets_the_optimizer_rate(images):
    from vaecore.schedules import HoldThenDecay

    model = build_vae(DENSE, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(
        images, epochs=4, batch_size=16, verbose=0,
        callbacks=[HoldThenDecay(4, base=1e-2, final=1e-4)],
    ).history  # fmt: skip
    assert history["learning_rate"] == pytest.approx([1e-2, 1e-2, 1e-2, 1e-4], rel=1e-6)
