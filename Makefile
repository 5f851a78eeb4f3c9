# Every target sets itself up: a fresh clone needs only python3 (3.10+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow

.PHONY: install test lint demo clean shipped-model notebooks

install: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot,bench]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check keras_s2s tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest

# Runs every notebook in notebooks/ top to bottom in quick mode (KERAS_S2S_QUICK=1),
# each in a fresh kernel of this venv; `make test` leaves them out (marker `notebooks`).
notebooks: $(STAMP)
	KERAS_S2S_QUICK=1 $(BIN)/python -m pytest -m notebooks --durations=0 tests/test_notebooks.py

# Trains the default model on the bundled corpus (pairs of at most 20 words) for
# about 12 minutes, prints validation loss per epoch, test BLEU/chrF and sample
# translations, and saves runs/demo.keras.
demo: $(STAMP)
	mkdir -p runs
	$(BIN)/keras-s2s train --corpus bible-spa-eng --max-words 20 \
		--time-budget-seconds 720 --epochs 30 --output runs/demo.keras

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache *.egg-info

# The model shipped in saved_models/spa_eng (about 40 minutes on 2 CPU cores):
# GRU with a bidirectional encoder and Luong attention, dropout 0.2, trained until
# the validation loss stops improving (at most 40 epochs),
# then exported as the next SavedModel version.
shipped-model: $(STAMP)
	mkdir -p runs
	$(BIN)/keras-s2s train --corpus bible-spa-eng --max-words 20 --architecture gru-attention \
		--dropout 0.2 \
		--epochs 40 --seed 0 --output runs/spa_eng.keras
	$(BIN)/keras-s2s export --model runs/spa_eng.keras --output saved_models/spa_eng
