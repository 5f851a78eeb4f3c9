"""Learning-rate schedules: their formulas, and that they follow the optimizer's step."""

import math

import keras
import numpy as np
import pytest

from keras_s2s.schedules import (
    SCHEDULES,
    InverseSquareRootSchedule,
    WarmupCosineSchedule,
    make_schedule,
)


@pytest.mark.parametrize("step", [0, 1, 37, 100, 101, 400, 10_000])
def test_inverse_square_root_is_warmup_then_one_over_sqrt_step(step):
    schedule = make_schedule("inverse_sqrt", learning_rate=2e-3, warmup_steps=100,
                             total_steps=20_000)
    assert isinstance(schedule, InverseSquareRootSchedule)
    expected = 2e-3 * min(step / 100, math.sqrt(100 / max(step, 1)))
    assert float(schedule(step)) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("step", [0, 4, 10, 35, 60, 109, 110, 500])
def test_cosine_is_warmup_then_half_a_cosine_down_to_the_floor(step):
    schedule = make_schedule("cosine", learning_rate=1e-3, warmup_steps=10, total_steps=110)
    assert isinstance(schedule, WarmupCosineSchedule)
    floor = 1e-4  # COSINE_FLOOR_FRACTION of the peak
    if step < 10:
        expected = 1e-3 * step / 10
    else:
        progress = min((step - 10) / 100, 1.0)
        expected = floor + (1e-3 - floor) * (1 + math.cos(math.pi * progress)) / 2
    assert float(schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-12)


def test_cosine_without_warmup_starts_at_the_peak():
    schedule = WarmupCosineSchedule(1e-3, 0, 50, floor_learning_rate=0.0)
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(50)) == pytest.approx(0.0, abs=1e-12)


def test_constant_is_the_plain_float_keras_took_before():
    assert make_schedule("constant", learning_rate=2e-3, warmup_steps=0, total_steps=10) == 2e-3


@pytest.mark.parametrize("name, warmup_steps, total_steps, message", [
    ("linear", 0, 100, r"learning_rate_schedule must be one of \('constant', 'inverse_sqrt', "
                       r"'cosine'\), got 'linear'"),
    ("constant", 10, 100, "'constant' has no warm-up"),
    ("inverse_sqrt", 0, 100, "'inverse_sqrt' needs warmup_steps >= 1"),
    ("cosine", -1, 100, "warmup_steps must be an integer >= 0"),
    ("cosine", 100, 100, r"total_steps must be an integer > warmup_steps \(100\)"),
])
def test_bad_schedule_options_are_errors_naming_the_option(name, warmup_steps, total_steps,
                                                           message):
    with pytest.raises(ValueError, match=message):
        make_schedule(name, learning_rate=1e-3, warmup_steps=warmup_steps,
                      total_steps=total_steps)
    assert set(SCHEDULES) == {"constant", "inverse_sqrt", "cosine"}


def test_learning_rate_must_be_positive():
    with pytest.raises(ValueError, match="learning_rate must be a number > 0, got 0"):
        make_schedule("cosine", learning_rate=0, warmup_steps=1, total_steps=10)


def test_schedules_survive_serialization_inside_an_optimizer():
    for schedule in (InverseSquareRootSchedule(1e-3, 40),
                     WarmupCosineSchedule(1e-3, 5, 90, floor_learning_rate=1e-5)):
        config = keras.optimizers.Adam(learning_rate=schedule).get_config()
        assert config["learning_rate"]["registered_name"] == f"keras_s2s>{type(schedule).__name__}"
        assert config["learning_rate"]["config"] == schedule.get_config()
        copy = keras.optimizers.Adam.from_config(config)
        copy.build([keras.Variable(np.ones(2, dtype="float32"))])
        copy.iterations.assign(77)
        assert float(copy.learning_rate) == pytest.approx(float(schedule(77)))


def test_the_optimizer_reads_its_own_step_counter():
    schedule = InverseSquareRootSchedule(1e-2, 10)
    variable = keras.Variable(np.ones(3, dtype="float32"))
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    optimizer.build([variable])
    optimizer.iterations.assign(250)  # e.g. restored from a backup
    assert float(optimizer.learning_rate) == pytest.approx(float(schedule(250)))
    optimizer.apply([np.ones(3, dtype="float32")], [variable])
    assert float(optimizer.learning_rate) == pytest.approx(float(schedule(251)))


def test_with_gradient_accumulation_the_schedule_counts_batches():
    schedule = InverseSquareRootSchedule(1e-2, 10)
    variable = keras.Variable(np.ones(3, dtype="float32"))
    optimizer = keras.optimizers.Adam(learning_rate=schedule, gradient_accumulation_steps=2)
    for _ in range(6):
        optimizer.apply([np.ones(3, dtype="float32")], [variable])
    assert int(optimizer.iterations) == 3  # updates
    assert float(optimizer.learning_rate) == pytest.approx(float(schedule(6)))  # batches
