"""Runs an exported SavedModel the way a server would: in a fresh process that
imports only tensorflow and tensorflow_text (shared by the export tests)."""

import json
import subprocess
import sys
import textwrap


def serve_cold(version_dir, texts, *, signature="serving_default"):
    """Calls `signature` on `texts` in a new Python process that never imports
    keras_s2s (checked); returns its outputs as lists (strings decoded)."""
    script = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        import tensorflow_text  # registers the text ops the graph uses
        loaded = tf.saved_model.load({str(version_dir)!r})
        texts = tf.constant(json.loads(sys.stdin.read()), tf.string)
        outputs = loaded.signatures[{signature!r}](text=texts)
        assert "keras_s2s" not in sys.modules, "the export must not need keras_s2s"
        def plain(value):
            value = value.numpy()
            if value.dtype == object:
                return [[t.decode() for t in row] if hasattr(row, "__len__") and
                        not isinstance(row, bytes) else row.decode() for row in value]
            return value.tolist()
        print(json.dumps({{name: plain(value) for name, value in outputs.items()}}))
    """)
    completed = subprocess.run([sys.executable, "-c", script], input=json.dumps(list(texts)),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
