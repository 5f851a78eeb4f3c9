"""`keras-s2s evaluate`: BLEU and chrF of a model on a data set, in one line
that says what was scored.

    BLEU 19.0  chrF 39.1  bible-spa-eng (test split), --max-words 20: 632 pairs
    (left out: 12 pairs also in train); decoding --method greedy

The pairs are those `keras-s2s train` held out from the same options (see
`keras_s2s.cli.datasets`), so the number can be compared with training's.
"""

from __future__ import annotations

import sys

from keras_s2s.cli import checks, datasets
from keras_s2s.cli.messages import warn
from keras_s2s.cli.quiet import import_tensorflow


def run(args) -> int:
    model_path = checks.check_model_path(args.model)
    settings = checks.decoding_settings(args)
    checks.check_data_options(args)
    pairs, description = datasets.selected_pairs(args)
    import_tensorflow(verbose=args.verbose)
    from keras_s2s.cli.models import load_model, model_vocabularies
    from keras_s2s.data.sanity import input_language_warning
    from keras_s2s.evaluation import score_translations
    from keras_s2s.translation import translate

    model = load_model(model_path)
    vocabularies = model_vocabularies(model)
    if vocabularies is not None:
        message = input_language_warning(pairs.sources[:500], *vocabularies)
        if message is not None:
            warn("evaluate", message + " Check --source-column and --target-column.")
    # A Keras progress bar on stderr, only where someone watches it.
    verbose = 0 if args.quiet or not sys.stderr.isatty() else 1
    hypotheses = translate(list(pairs.sources), model, decoding=settings, verbose=verbose)
    scores = score_translations(hypotheses, pairs.targets)
    print(f"BLEU {scores.bleu:.1f}  chrF {scores.chrf:.1f}  on {description}; decoding "
          f"{checks.describe_settings(settings)}")
    return 0

