"""`keras-s2s translate` streams: a real process answers each line before the
next is sent, Ctrl-C keeps complete lines only, and the parts (reader, sink,
progress line) behave on their own."""

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from keras_s2s.cli.interrupts import interrupts_deferred
from keras_s2s.cli.output import LineSink
from keras_s2s.cli.streaming import LineReader, Progress

TIMEOUT = 120  # seconds; TensorFlow's import and the first trace dominate
LOG_MARKS = ("I0000", "W0000", "E0000", "absl::InitializeLog", "oneDNN", "cuda")


def _command(model_path, *options):
    return [sys.executable, "-m", "keras_s2s.cli", "translate", "--model", str(model_path),
            *options]


def _lines_of(stream):
    """A queue fed with `stream`'s lines by a thread, to read with a timeout."""
    lines = queue.Queue()

    def pump():
        for line in iter(stream.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _start(command, tmp_path):
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=environment)


def test_each_line_is_answered_before_the_next_is_sent(trained, tmp_path):
    model, _, path = trained
    process = _start(_command(path, "--format", "jsonl"), tmp_path)
    answers = _lines_of(process.stdout)
    try:
        for number, text in enumerate(["uno dos", "tres", "cuatro cinco seis"], start=1):
            process.stdin.write(text + "\n")
            process.stdin.flush()  # and keep stdin open: no end of input yet
            record = json.loads(answers.get(timeout=TIMEOUT))
            assert record["line"] == number and record["source"] == text
            assert record["translation"] == model_translation(model, text)
            assert isinstance(record["score"], float)
        process.stdin.close()
        assert process.wait(timeout=TIMEOUT) == 0
        stderr = process.stderr.read()
    finally:
        process.kill()
    assert not [mark for mark in LOG_MARKS if mark in stderr], stderr  # no TF log lines
    assert answers.get(timeout=TIMEOUT) is None  # nothing after the three answers


def model_translation(model, text):
    import keras_s2s

    return keras_s2s.translate(text, model)


@pytest.mark.slow  # a fresh process; the pipe is held by the test above
def test_ctrl_c_keeps_only_complete_lines_and_says_how_many(trained, tmp_path):
    model, _, path = trained
    output = tmp_path / "out.txt"
    process = _start(_command(path, "--output", str(output)), tmp_path)
    partial = tmp_path / f".out.txt.{process.pid}.partial"
    sources = ["uno dos", "tres", "cuatro"]
    try:
        for count, text in enumerate(sources, start=1):
            process.stdin.write(text + "\n")
            process.stdin.flush()
            deadline = time.monotonic() + TIMEOUT
            while not (partial.exists() and partial.read_text().count("\n") == count):
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        # Mid-stream: many more lines are on their way when Ctrl-C arrives.
        more = [f"{a} {b}" for a in ("uno", "dos", "tres", "seis") for b in
                ("cero", "ocho", "nueve")] * 200
        process.stdin.write("".join(line + "\n" for line in more))
        process.stdin.flush()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=TIMEOUT)
        stderr = process.stderr.read()
    finally:
        process.kill()
    assert code == 130
    assert not partial.exists()
    written = output.read_text(encoding="utf-8")
    assert written.endswith("\n")
    lines = written.splitlines()
    expected = model_translation(model, (sources + more)[:len(lines)])
    assert lines == expected and len(lines) >= 3
    messages = [line for line in stderr.splitlines() if line.strip()]
    assert messages == [f"keras-s2s translate: interrupted: wrote {len(lines):,} lines to "
                        f"{output}, all complete; input from line {len(lines) + 1:,} on was "
                        "not translated."], stderr


@pytest.mark.slow  # a fresh process; test_bad_input holds the warning in-process
def test_invalid_utf8_line_gets_a_warning_and_an_empty_line(trained, tmp_path):
    model, _, path = trained
    completed = subprocess.run(_command(path), input=b"uno dos\n\xff\xfedos\ntres seis\n",
                               capture_output=True, timeout=TIMEOUT, cwd=tmp_path)
    assert completed.returncode == 0
    first, third = model_translation(model, ["uno dos", "tres seis"])
    assert completed.stdout.decode().split("\n") == [first, "", third, ""]
    assert completed.stderr.decode().strip().splitlines() == [
        "keras-s2s translate: warning: line 2: not valid utf-8 (byte 1: b'\\xff'); writing "
        "an empty line for it."]


# --- the parts ---------------------------------------------------------------------------


def test_reader_hands_over_what_is_waiting_without_waiting_for_more():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as stream, os.fdopen(write_end, "wb") as writer:
        chunks = LineReader(stream).chunks(max_lines=3)
        writer.write(b"one\ntwo\nthree\nfour\n")
        writer.flush()
        time.sleep(0.2)  # all four are waiting: a full chunk, then the rest
        assert next(chunks) == [(1, b"one"), (2, b"two"), (3, b"three")]
        assert next(chunks) == [(4, b"four")]
        writer.write(b"five\r\n")  # alone, with the pipe still open
        writer.flush()
        assert next(chunks) == [(5, b"five")]
        writer.close()
        assert list(chunks) == []


def test_sink_file_appears_only_when_published(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    sink = LineSink(path)
    sink.write("a\nb\n", lines=2)
    assert path.read_text() == "old\n" and sink.lines == 2
    sink.publish()
    assert path.read_text() == "a\nb\n" and os.listdir(tmp_path) == ["out.txt"]
    failed = LineSink(path)
    failed.write("c\n", lines=1)
    failed.discard()
    assert path.read_text() == "a\nb\n" and os.listdir(tmp_path) == ["out.txt"]


def test_ctrl_c_during_a_write_takes_effect_after_it():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            done.append("the whole write")
    assert done == ["the whole write"]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(("stream", "quiet", "shown"), [
    (_Terminal(), False, True), (_Terminal(), True, False), (io.StringIO(), False, False)])
def test_progress_line_only_on_a_terminal_and_not_quiet(stream, quiet, shown):
    progress = Progress(stream, enabled=not quiet)
    progress.update(1200)
    progress.finish()
    text = stream.getvalue()
    assert (text.startswith("\rkeras-s2s translate: 1,200 lines") and text.endswith("\n")) \
        if shown else text == ""
