"""Where training runs and in what precision: `tf.distribute` strategies and
Keras mixed-precision policies, chosen by name.

We do not distribute anything ourselves. A strategy decides where variables
live and how each global batch is split across replicas; a dtype policy decides
in which float type layers compute. Both must be in force while the model is
*built*, because that is when variables and layers are created, so they come
together in one context manager:

    with keras_s2s.distribution.training_scope("mirrored", mixed_precision="mixed_float16"):
        model = keras_s2s.build_model(splits.train)
        keras_s2s.train(model, splits.train, splits.validation)
"""

from __future__ import annotations

import contextlib
import json
import os

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
MIXED_PRECISION_POLICIES = ("mixed_float16", "mixed_bfloat16")


def make_strategy(strategy=None) -> tf.distribute.Strategy:
    """A `tf.distribute.Strategy` from a name (or the strategy itself).

    Args:
        strategy: `None` or `"default"` (no distribution: one device),
            `"mirrored"` (every local GPU, else the CPU), `"multi-worker"`
            (synchronous training over the machines listed in the `TF_CONFIG`
            environment variable), `"tpu"` (the TPU this runtime is attached
            to, as in Colab), or a `tf.distribute.Strategy`, returned as is.

    Example:
        >>> strategy = make_strategy("mirrored")
        >>> strategy.num_replicas_in_sync  # one per GPU
        2
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy is None or strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "strategy='multi-worker' needs the TF_CONFIG environment variable on every "
                "worker: the cluster's addresses and this worker's task (see the README's "
                "'Training at scale')."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if strategy == "tpu":
        return _connect_to_tpu()
    raise ValueError(
        f"strategy must be one of {STRATEGIES} or a tf.distribute.Strategy, got {strategy!r}."
    )


def _connect_to_tpu() -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(
            f"strategy='tpu': no TPU found ({error}). In Colab choose Runtime > Change runtime "
            "type > TPU."
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def check_mixed_precision(mixed_precision) -> str | None:
    """Returns `mixed_precision` if it names a policy we support (or is None)."""
    if mixed_precision is not None and mixed_precision not in MIXED_PRECISION_POLICIES:
        raise ValueError(
            f"mixed_precision must be one of {MIXED_PRECISION_POLICIES} or None, "
            f"got {mixed_precision!r}."
        )
    return mixed_precision


@contextlib.contextmanager
def training_scope(strategy=None, *, mixed_precision: str | None = None):
    """Builds (and trains) models under a strategy and a precision policy.

    Inside the block, new layers take the mixed-precision policy and new
    variables are placed by the strategy. On exit the previous global policy
    is put back, so models built later are unaffected; a model built inside
    keeps its policy and its strategy.

    Args:
        strategy: see `make_strategy`.
        mixed_precision: `"mixed_float16"` (GPUs), `"mixed_bfloat16"` (TPUs and
            recent CPUs) or `None` (float32 throughout). The model's logits and
            loss stay float32 either way.

    Yields:
        The `tf.distribute.Strategy`.

    Example:
        >>> with training_scope("tpu", mixed_precision="mixed_bfloat16") as strategy:
        ...     model = keras_s2s.build_model(splits.train)
        ...     keras_s2s.train(model, splits.train, batch_size=64 * strategy.num_replicas_in_sync)
    """
    check_mixed_precision(mixed_precision)
    strategy = make_strategy(strategy)
    previous_policy = keras.mixed_precision.global_policy()
    if mixed_precision is not None:
        keras.mixed_precision.set_global_policy(mixed_precision)
    try:
        with strategy.scope():
            yield strategy
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def model_strategy(model, strategy=None) -> tf.distribute.Strategy:
    """The strategy `model` was built under, checked against `strategy` if given
    (and against the strategy in force, if not).

    Raises:
        ValueError: the model's variables belong to another strategy (or to
            none): the model must be built inside `strategy.scope()`.
    """
    strategy = model.distribute_strategy if strategy is None else make_strategy(strategy)
    variable = model.variables[0]
    # A Keras variable wraps the backend's; a MirroredVariable when built in scope.
    if not strategy.extended.variable_created_in_scope(getattr(variable, "value", variable)):
        raise ValueError(
            f"The model was not built under this {type(strategy).__name__}: its variables "
            "live elsewhere. Build it inside the strategy's scope, e.g. `with "
            "keras_s2s.distribution.training_scope(strategy): model = keras_s2s.build_model(...)`, "
            "then train it there."
        )
    return strategy


def check_model_precision(model, mixed_precision) -> None:
    """Raises if `model` was not built under the `mixed_precision` policy asked for."""
    check_mixed_precision(mixed_precision)
    built_with = model.dtype_policy.name
    if mixed_precision is not None and built_with != mixed_precision:
        raise ValueError(
            f"mixed_precision={mixed_precision!r}, but the model was built with the "
            f"{built_with!r} policy; the policy must be set before the layers are made: build "
            "the model inside `keras_s2s.distribution.training_scope(mixed_precision="
            f"{mixed_precision!r})`."
        )


def worker_task(strategy) -> tuple[str | None, int]:
    """`(task type, index)` of this process in a multi-worker cluster, else `(None, 0)`."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return None, 0
    return resolver.task_type, int(resolver.task_id or 0)


def is_chief(strategy) -> bool:
    """Whether this process writes the files every worker would otherwise write
    alike: the chief, or worker 0 when the cluster names no chief."""
    task_type, task_id = worker_task(strategy)
    if task_type is None or task_type == "chief":
        return True
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


@contextlib.contextmanager
def keras_multi_worker_fixes(model, strategy):
    """Lets `model.fit` run under `MultiWorkerMirroredStrategy` in Keras 3.

    Keras 3's TensorFlow trainer has two faults with this strategy
    (keras-team/keras issue 20585), both in code that only looks at results:

    - before the first step it reduces the first input batch across workers
      just to learn its shapes, which fails for a nested batch like ours
      ("unsupported type PerReplica"); this worker's own share has the same
      structure, so the model is built from that;
    - it averages each step's scalar logs (loss, accuracy) across workers
      with `axis=0`, which a scalar does not have; they are averaged with
      `axis=None` instead.

    Inside the block (around `fit`) both are patched; other strategies are
    left alone. Gradients and weights go through the strategy untouched.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        yield
        return
    from keras.src.backend.tensorflow import trainer as keras_trainer

    def build_from_local_batch(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda value: strategy.experimental_local_results(value)[0], next(batches)
                )
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    original_reduce = keras_trainer.reduce_per_replica

    def reduce_logs(values, strategy, reduction="auto"):
        if reduction not in ("auto", "mean"):
            return original_reduce(values, strategy, reduction)
        return tf.nest.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None),
                                     values)

    # An instance attribute shadows the method for this model only.
    model._maybe_symbolic_build = build_from_local_batch
    keras_trainer.reduce_per_replica = reduce_logs
    try:
        yield
    finally:
        keras_trainer.reduce_per_replica = original_reduce
        del model._maybe_symbolic_build
