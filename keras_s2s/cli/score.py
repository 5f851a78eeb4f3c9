"""`keras-s2s score`: how probable the model finds each pair's target, by
forced decoding (`keras_s2s.score`); one output line per pair, in data order.

    $ keras-s2s score --model m.keras --data pairs.tsv --format tsv
    reference	log_prob	score	source	target
    pairs.tsv:1	-2.3100	-1.8500	¿Dónde está?	Where is it?
"""

from __future__ import annotations

import sys

from keras_s2s.cli import checks, datasets
from keras_s2s.cli.messages import note
from keras_s2s.cli.output import SCORE_TSV_HEADER, format_score
from keras_s2s.cli.quiet import import_tensorflow


def run(args) -> int:
    model_path = checks.check_model_path(args.model)
    checks.check_data_options(args)
    pairs, description = datasets.selected_pairs(args)
    import_tensorflow(verbose=args.verbose)
    import keras_s2s
    from keras_s2s.cli.models import load_model

    options = {"length_penalty": args.length_penalty} if hasattr(args, "length_penalty") else {}
    results = keras_s2s.score(list(pairs.sources), list(pairs.targets),
                              load_model(model_path), **options)
    if args.format == "tsv":
        sys.stdout.write(SCORE_TSV_HEADER)
    references = pairs.references or [str(index) for index in range(1, len(pairs) + 1)]
    for reference, (source, target), result in zip(references, pairs, results):
        sys.stdout.write(format_score(reference, source, target, result, args.format))
    sys.stdout.flush()
    note("score", f"scored {description}")  # on stderr: stdout holds only the scores
    return 0
