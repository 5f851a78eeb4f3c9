"""The model committed in saved_models/ loads cold and translates."""

import pathlib

import pytest

import keras_s2s

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture()
def in_repository(monkeypatch):
    monkeypatch.chdir(REPOSITORY)


def test_shipped_model_is_small_and_versioned():
    base = REPOSITORY / "saved_models" / "spa_eng"
    versions = [p for p in base.iterdir() if p.name.isdigit()]
    assert versions, "saved_models/spa_eng holds no version"
    for version in versions:
        variables = sum(f.stat().st_size for f in (version / "variables").iterdir())
        assert variables <= 40 * 1024 * 1024, version


def test_translate_without_a_model_uses_the_shipped_one(in_repository):
    translations = keras_s2s.translate(
        ["Y dijo Dios: Sea la luz: y fue la luz.", "", "Y Abraham engendró a Isaac."]
    )
    assert "light" in translations[0] and "God" in translations[0]
    assert translations[1] == ""
    assert "Abraham" in translations[2] and "Isaac" in translations[2]
    n_best = keras_s2s.translate("Y dijo Dios: Sea la luz.", method="beam", num_results=3)
    assert len(n_best) == 3 and n_best[0][1] >= n_best[1][1] >= n_best[2][1]


@pytest.mark.slow  # a fresh process; the C++ loader also runs in test_check_export's replay
def test_shipped_model_passes_check_export_through_tf_servings_loader():
    report = keras_s2s.check_export(REPOSITORY / "saved_models" / "spa_eng")
    assert report.ok, str(report)
    assert report.path.name != "1"  # version 1 failed in TF Serving's C++ loader


def test_shipped_model_never_answers_empty_or_with_the_unknown_token(in_repository):
    from keras_s2s.data import load_corpus

    everyday = (REPOSITORY / "benchmarks" / "everyday_sentences.txt").read_text(
        encoding="utf-8").splitlines()
    sources = list(load_corpus("bible-spa-eng", max_words=20).test.sources) + everyday
    for method in ("greedy", "beam"):
        translations = keras_s2s.translate(sources, method=method)
        assert all(t.strip() for t in translations), method
        assert not [t for t in translations if "[UNK]" in t], method
