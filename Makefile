# Every target sets itself up: a fresh clone needs only python3 (3.10+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow

.PHONY: install test test-slow lint demo clean shipped-model notebooks

install: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot,bench]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check keras_s2s tests benchmarks

# The default suite (a few minutes); test-slow runs the long tests it leaves out
# (marker `slow`, about 10 minutes); CI runs both, then the notebooks.
test: $(STAMP) lint
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow --durations=10

# Runs every notebook in notebooks/ top to bottom in quick mode (KERAS_S2S_QUICK=1),
# each in a fresh kernel of this venv; `make test` leaves them out (marker `notebooks`).
notebooks: $(STAMP)
	KERAS_S2S_QUICK=1 $(BIN)/python -m pytest -m notebooks --durations=0 tests/test_notebooks.py

# Shows the shipped model at once, then trains the default recipe (attention,
# WordPiece, tied embeddings, label smoothing, warm-up + cosine, the mean of the
# last 5 epochs) on the bundled corpus' pairs of at most 20 words for at most 20
# epochs or 10 minutes, prints validation loss and BLEU per epoch, saves
# runs/demo.keras, and compares both models on the same test split (greedy).
DEMO_SENTENCES := "Y dijo Dios: Sea la luz." "¿Dónde está tu hermano?" "El amor es paciente."
demo: $(STAMP)
	mkdir -p runs
	@echo "== The shipped model (saved_models/spa_eng), before any training:"
	$(BIN)/keras-s2s translate --model saved_models/spa_eng $(DEMO_SENTENCES)
	@echo "== Training the default recipe (about 10 minutes on 2 CPU cores):"
	$(BIN)/keras-s2s train --corpus bible-spa-eng --max-words 20 --monitor val_bleu \
		--epochs 20 --time-budget-seconds 600 --output runs/demo.keras
	@echo "== The demo model, then the shipped one, on the same test split (greedy):"
	$(BIN)/keras-s2s translate --model runs/demo.keras $(DEMO_SENTENCES)
	$(BIN)/keras-s2s evaluate --model runs/demo.keras --split test --max-words 20
	$(BIN)/keras-s2s evaluate --model saved_models/spa_eng --split test --max-words 20

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache *.egg-info

# The model shipped in saved_models/spa_eng (about 90 minutes on 2 CPU cores): the
# default recipe at a larger size, on every pair of the bundled corpus (issue #16):
# GRU with a bidirectional encoder and Luong attention, WordPiece vocabularies,
# tied target embeddings, dropout 0.3, label smoothing 0.1, warm-up then cosine
# decay, the mean of the last 5 epochs' weights; then exported as the next
# SavedModel version.
shipped-model: $(STAMP)
	mkdir -p runs
	$(BIN)/keras-s2s train --corpus bible-spa-eng --architecture gru-attention \
		--tokenization wordpiece --source-vocabulary-size 8000 --target-vocabulary-size 8000 \
		--embedding-dim 256 --hidden-dim 512 --dropout 0.3 --tie-embeddings yes \
		--batching sorted --label-smoothing 0.1 --learning-rate 0.002 \
		--learning-rate-schedule cosine --warmup-steps 800 --epochs 16 --average-last 5 \
		--monitor val_bleu --early-stopping-patience 0 --time-budget-seconds 5100 \
		--seed 0 --backup-dir runs/spa_eng_backup --output runs/spa_eng.keras
	$(BIN)/keras-s2s export --model runs/spa_eng.keras --output saved_models/spa_eng
