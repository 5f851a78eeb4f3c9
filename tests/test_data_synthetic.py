"""The synthetic number-words task: deterministic, in range, word-for-word."""

import random

import pytest

from keras_s2s.data import synthetic_pairs

# Written out here rather than imported, so the test checks the task, not itself.
SPANISH_TO_ENGLISH = {
    "cero": "zero", "uno": "one", "dos": "two", "tres": "three", "cuatro": "four",
    "cinco": "five", "seis": "six", "siete": "seven", "ocho": "eight", "nueve": "nine",
}


def test_same_seed_same_pairs_other_seed_other_pairs():
    pairs = synthetic_pairs(200, seed=3)
    assert pairs == synthetic_pairs(200, seed=3)
    assert pairs.sources != synthetic_pairs(200, seed=4).sources
    # A longer run starts with the same pairs: the stream depends on the seed only.
    assert synthetic_pairs(300, seed=3).take(200) == pairs


def test_lengths_stay_in_range_and_cover_it():
    pairs = synthetic_pairs(500, seed=0, min_length=2, max_length=5)
    lengths = {len(source.split()) for source in pairs.sources}
    assert lengths == {2, 3, 4, 5}
    fixed = synthetic_pairs(50, seed=1, min_length=3, max_length=3)
    assert {len(source.split()) for source in fixed.sources} == {3}


def test_target_is_the_word_for_word_translation():
    pairs = synthetic_pairs(1000, seed=7)
    for source, target in pairs:
        assert target.split() == [SPANISH_TO_ENGLISH[word] for word in source.split()]
    used = {word for source in pairs.sources for word in source.split()}
    assert used == set(SPANISH_TO_ENGLISH)  # a ten-word vocabulary, all of it used
    # Random sentences, not a few repeated ones (only 100 two-word sentences exist,
    # so about 810 of 1,000 are expected to be distinct).
    assert len(set(pairs.sources)) > 700


def test_does_not_touch_the_global_random_state():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    synthetic_pairs(20, seed=0)
    assert random.random() == expected


def test_edge_cases_and_invalid_arguments():
    assert len(synthetic_pairs(0)) == 0
    with pytest.raises(ValueError, match="num_pairs"):
        synthetic_pairs(-1)
    with pytest.raises(ValueError, match="min_length"):
        synthetic_pairs(5, min_length=4, max_length=3)
    with pytest.raises(ValueError, match="min_length"):
        synthetic_pairs(5, min_length=0)
