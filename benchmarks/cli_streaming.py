"""`keras-s2s translate`: streamed vs read-everything, and time to the first error.

Prints two measurements, from fresh processes as a user would run them:

1. time to the first error: `keras-s2s translate --model missing.keras hola`
   until it exits with its one-line error (best and median of N runs), with
   the time a bare `import tensorflow` takes for comparison (the old command
   imported TensorFlow before it looked at the path);
2. throughput on the same stdin lines (default: 2,000 Spanish verses of the
   bundled corpus) and the same model, in interleaved rounds: the streaming
   command (`python -m keras_s2s.cli translate`, reading stdin chunk by
   chunk) against the old read-everything path (all of stdin, then one
   `keras_s2s.translate` call, then print: what `keras-s2s translate` did
   before), both whole processes (start-up, TensorFlow import and model
   loading included). It also prints when the streaming command wrote its
   first line, and checks that both wrote the same translations.

    $ python benchmarks/cli_streaming.py --model saved_models/spa_eng \\
          --min-length 0 --replace-unknown no

(`--min-length 0 --replace-unknown no`: saved_models/spa_eng/2 is an export of
format 2, whose greedy signature decodes that way.)
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

# The old `keras-s2s translate` (before streaming), as a script: read all, translate, print.
READ_EVERYTHING = """
import json, sys
import keras_s2s
options = json.loads(sys.argv[2])
texts = [line.rstrip("\\n") for line in sys.stdin]
for result in keras_s2s.translate(texts, sys.argv[1], **options):
    print(result)
"""


def _environment():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def time_to_error(runs: int) -> list[float]:
    """Seconds until `translate --model missing.keras` exits, per run."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "keras_s2s.cli", "translate", "--model", "missing.keras",
             "hola"], capture_output=True, text=True, env=_environment())
        times.append(time.perf_counter() - started)
        assert completed.returncode == 2 and len(completed.stderr.splitlines()) == 1, \
            completed.stderr
    return times


def tensorflow_import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                   env=_environment(), check=True)
    return time.perf_counter() - started


def _timed(command, input_path) -> tuple[float, float, bytes]:
    """(seconds to exit, seconds to the first output line, output) of a process
    reading `input_path` on stdin."""
    with open(input_path, "rb") as stdin:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=_environment())
        first_line = process.stdout.readline()
        first = time.perf_counter() - started
        output = first_line + process.stdout.read()
        stderr = process.stderr.read()
        code = process.wait()
        total = time.perf_counter() - started
    assert code == 0, stderr.decode()[-2000:]
    return total, first, output


def _flags(options: dict) -> list[str]:
    flags = []
    for name, value in options.items():
        shown = {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value
        flags += ["--" + name.replace("_", "-"), str(shown)]
    return flags


def _in_turn(pairs, round_number: int):
    """`pairs` in order in even rounds, reversed in odd ones (A B, B A, ...), so
    a machine getting busier or quieter during a round favours neither."""
    return pairs if round_number % 2 == 0 else pairs[::-1]


def _paired_ratio(streamed, read_everything) -> float:
    """The median over rounds of streamed / read everything in the same round."""
    return statistics.median(a / b for a, b in zip(streamed, read_everything))


def throughput(model: str, input_path, options: dict, rounds: int, chunk_lines: int):
    streamed_command = [sys.executable, "-m", "keras_s2s.cli", "translate", "--model", model,
                        "--quiet", "--chunk-lines", str(chunk_lines), *_flags(options)]
    batch_command = [sys.executable, "-c", READ_EVERYTHING, model, json.dumps(options)]
    results = {"streamed": [], "read everything": []}
    outputs = {}
    commands = [("streamed", streamed_command), ("read everything", batch_command)]
    for round_number in range(rounds):  # interleaved, so both see the same machine load
        for name, command in _in_turn(commands, round_number):
            total, first, outputs[name] = _timed(command, input_path)
            results[name].append((total, first))
    same = outputs["streamed"] == outputs["read everything"]
    return results, same


def in_process(model: str, input_path, options: dict, rounds: int, chunk_lines: int):
    """Seconds per run, in this process after a warm-up of each path: the
    translating alone, without start-up and model loading."""
    import keras_s2s
    from keras_s2s.cli import main

    texts = input_path.read_text(encoding="utf-8").splitlines()
    command = ["translate", "--model", model, "--quiet", "--chunk-lines", str(chunk_lines),
               *_flags(options)]

    def streamed():
        with open(input_path, "rb") as stdin:
            os.dup2(stdin.fileno(), 0)  # the command reads file descriptor 0
        assert main(command) == 0

    def read_everything():
        for result in keras_s2s.translate(texts, model, **options):
            print(result)

    results = {"streamed": [], "read everything": []}
    saved_stdin, saved_stdout = os.dup(0), sys.stdout
    try:
        with open(os.devnull, "w") as sys.stdout:
            runs = [("streamed", streamed), ("read everything", read_everything)]
            for round_number in range(rounds + 1):  # round 0 warms both up (tracing)
                for name, run in _in_turn(runs, round_number):
                    started = time.perf_counter()
                    run()
                    if round_number:
                        results[name].append(time.perf_counter() - started)
    finally:
        sys.stdout = saved_stdout
        os.dup2(saved_stdin, 0)
    return results


def padded_tokens(texts, chunk_lines: int) -> dict[str, int]:
    """Source tokens `translate` pads its batches to (a proxy for the work),
    for one call on everything and for one call per chunk of `chunk_lines`."""
    from keras_s2s.translation import _TOKEN, length_sorted_chunks

    def padded(part):
        lengths = [len(_TOKEN.findall(text)) + 1 for text in part]
        return sum(len(batch) * max(lengths[i] for i in batch)
                   for batch in length_sorted_chunks(part))

    chunks = [texts[start:start + chunk_lines] for start in range(0, len(texts), chunk_lines)]
    return {"read everything": padded(texts), "streamed": sum(map(padded, chunks))}


def _sentences(count: int) -> list[str]:
    from keras_s2s.data import load_corpus

    splits = load_corpus()
    sources = [*splits.test.sources, *splits.validation.sources, *splits.train.sources]
    return sources[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="saved_models/spa_eng")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of whole processes")
    parser.add_argument("--warm-rounds", type=int, default=7,
                        help="rounds in one process, after a warm-up round")
    parser.add_argument("--error-runs", type=int, default=5)
    parser.add_argument("--chunk-lines", type=int, default=1024)
    parser.add_argument("--method", default="greedy")
    parser.add_argument("--min-length", type=int, default=None)
    parser.add_argument("--replace-unknown", choices=["yes", "no"], default=None)
    args = parser.parse_args()
    options = {"method": args.method}
    if args.min_length is not None:
        options["min_length"] = args.min_length
    if args.replace_unknown is not None:
        options["replace_unknown"] = args.replace_unknown == "yes"

    errors = time_to_error(args.error_runs)
    print(f"time to the first error (translate --model missing.keras), {len(errors)} runs: "
          f"best {min(errors):.2f} s, median {statistics.median(errors):.2f} s "
          f"(a bare `import tensorflow`: {tensorflow_import_seconds():.1f} s)")
    with tempfile.TemporaryDirectory() as directory:
        input_path = pathlib.Path(directory) / "input.txt"
        sentences = _sentences(args.lines)
        input_path.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
        print(f"\n{len(sentences):,} stdin lines, {args.model}, {' '.join(_flags(options))}, "
              f"--chunk-lines {args.chunk_lines}; rounds alternate which path goes first.")
        _report_processes(*throughput(args.model, input_path, options, args.rounds,
                                      args.chunk_lines), len(sentences))
        _report_in_process(in_process(args.model, input_path, options, args.warm_rounds,
                                      args.chunk_lines), len(sentences))
    print("\nSource tokens of the padded batches (translate sorts each call's input by "
          "length; a chunk is one call):")
    for chunk_lines in sorted({256, 512, args.chunk_lines}):
        padded = padded_tokens(sentences, chunk_lines)
        extra = padded["streamed"] / padded["read everything"] - 1
        print(f"  chunks of {chunk_lines:,} lines: {padded['streamed']:,}, read everything: "
              f"{padded['read everything']:,} (+{extra:.1%})")


def _report_processes(results, same: bool, count: int):
    print(f"\nWhole processes (start-up, TensorFlow import and model loading included), "
          f"{len(next(iter(results.values())))} rounds:")
    print("| path | best s | median s | first line after (median s) | lines/s (best) |")
    print("| --- | --- | --- | --- | --- |")
    for name, runs in results.items():
        totals = [total for total, _ in runs]
        firsts = statistics.median(first for _, first in runs)
        print(f"| {name} | {min(totals):.1f} | {statistics.median(totals):.1f} | "
              f"{firsts:.1f} | {count / min(totals):.0f} |")
    ratio = _paired_ratio([t for t, _ in results["streamed"]],
                          [t for t, _ in results["read everything"]])
    print(f"streamed / read everything (median of the rounds' ratios): {ratio:.2f}x; "
          f"same translations: {same}")


def _report_in_process(results, count: int):
    print(f"\nThe translating alone (one process, after a warm-up run of each), "
          f"{len(next(iter(results.values())))} rounds:")
    print("| path | best s | median s | lines/s (best) |")
    print("| --- | --- | --- | --- |")
    for name, times in results.items():
        print(f"| {name} | {min(times):.1f} | {statistics.median(times):.1f} | "
              f"{count / min(times):.0f} |")
    ratio = _paired_ratio(results["streamed"], results["read everything"])
    print(f"streamed / read everything (median of the rounds' ratios): {ratio:.2f}x")

if __name__ == "__main__":
    main()
