"""Exporting safely: concurrent exports, leftover temporary names and links,
broken exports, and a client that follows the newest version."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import pytest

import keras_s2s
from keras_s2s.saved_model.writer import export


@pytest.mark.slow
def test_two_export_processes_at_once_make_two_complete_versions(trained, tmp_path):
    _, _, model_path = trained
    base = tmp_path / "served"
    script = textwrap.dedent(f"""
        import keras_s2s
        print(keras_s2s.export({str(model_path)!r}, {str(base)!r}, method="greedy").name)
    """)
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results[0][1][-2000:]
    names = sorted(out.strip().splitlines()[-1] for out, _ in results)
    assert names == ["1", "2"]
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]  # no temporary left
    for name in names:
        assert (base / name / "saved_model.pb").is_file()
        assert keras_s2s.translate("uno dos", str(base / name)) == "one two"


def test_leftover_temporary_names_and_links_are_never_used(trained, tmp_path):
    model, _, _ = trained
    base, outside = tmp_path / "served", tmp_path / "outside"
    base.mkdir()
    outside.mkdir()
    # What a killed export, or an attacker guessing names, leaves behind.
    junk = base / f".writing-1-{os.getpid()}"
    junk.mkdir()
    (junk / "junk.txt").write_text("not part of any model")
    for name in (".writing-1-1", f".writing-2-{os.getpid()}", ".writing-x"):
        (base / name).symlink_to(outside, target_is_directory=True)
    before = sorted(p.name for p in base.iterdir())

    version = export(model, base, method="greedy")

    assert version == base / "1" and not version.is_symlink()
    assert not (version / "junk.txt").exists()
    assert list(outside.iterdir()) == []  # nothing written through a link
    assert sorted(p.name for p in base.iterdir()) == sorted([*before, "1"])
    assert (junk / "junk.txt").read_text() == "not part of any model"


def test_a_version_number_taken_meanwhile_is_skipped(trained, tmp_path, monkeypatch):
    model, _, _ = trained
    base = tmp_path / "served"
    from keras_s2s.saved_model import writer

    real_next_version = writer.next_version

    def racing_next_version(path):
        version = real_next_version(path)
        (path / str(version)).mkdir(exist_ok=True)  # someone else, not holding the lock
        (path / str(version) / "theirs").write_text("x")
        return version

    monkeypatch.setattr(writer, "next_version", racing_next_version)
    version = export(model, base, method="greedy")
    assert version.name == "2" and (base / "1" / "theirs").exists()
    assert (version / "saved_model.pb").is_file()


def test_export_into_a_file_is_a_clear_error(trained, tmp_path):
    model, _, _ = trained
    target = tmp_path / "pairs.tsv"
    target.write_text("uno\tone\n")
    with pytest.raises(ValueError, match="pairs.tsv is a file"):
        export(model, target)


@pytest.mark.slow
def test_translate_follows_the_newest_version_in_the_same_process(trained, tmp_path):
    model, test_pairs, _ = trained
    base = tmp_path / "served"
    sources = list(test_pairs.sources[:16])
    export(model, base, method="greedy")
    assert keras_s2s.translate(sources, str(base)) == keras_s2s.translate(sources, model)

    keras.utils.set_random_seed(7)  # another model, same vocabularies: other translations
    other = keras_s2s.models.RNNSeq2Seq.from_config(model.get_config())
    expected = keras_s2s.translate(sources, other)
    assert expected != keras_s2s.translate(sources, model)
    assert export(other, base, method="greedy").name == "2"
    assert keras_s2s.translate(sources, str(base)) == expected


@pytest.fixture()
def copy_of_export(greedy_export, tmp_path):
    broken = tmp_path / "broken" / "1"
    shutil.copytree(greedy_export, broken)
    return broken


def test_truncated_variables_are_a_value_error_naming_the_path(copy_of_export):
    data = next((copy_of_export / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"Could not load the SavedModel in {copy_of_export}"):
        keras_s2s.translate("uno", str(copy_of_export))


def test_broken_export_info_is_a_value_error_naming_the_file(copy_of_export):
    info = copy_of_export / "assets.extra" / "keras_s2s_export.json"
    info.write_text('{"decoding": ')
    with pytest.raises(ValueError, match=f"{info} is not readable export info"):
        keras_s2s.translate("uno", str(copy_of_export))
    info.write_text(json.dumps(["a list"]))
    with pytest.raises(ValueError, match="expected a JSON object"):
        keras_s2s.translate("uno", str(copy_of_export))
    info.unlink()
    with pytest.raises(ValueError, match=f"{info} is missing"):
        keras_s2s.translate("uno", str(copy_of_export))


def test_missing_graph_or_variables_are_clear_errors(copy_of_export):
    shutil.rmtree(copy_of_export / "variables")
    with pytest.raises(ValueError, match="variables/ directory is missing"):
        keras_s2s.translate("uno", str(copy_of_export))
    (copy_of_export / "saved_model.pb").unlink()
    with pytest.raises(FileNotFoundError, match="holds no SavedModel"):
        keras_s2s.translate("uno", str(copy_of_export))
