"""Multi-worker training: a custom loop over strategy.run.

Keras 3's fit dies under MultiWorkerMirroredStrategy (keras-team/keras#20585),
so each step here calls the AugmentedTrainer's own train_step
inside strategy.run: the same crop, mixup, loss, EMA optimizer and metrics as
`erann train`, with gradients and batch statistics summed over all replicas.
Every worker reads its own shards; only the chief writes (checkpoint after
each epoch, history, models, metrics; no TensorBoard logs). A worker that
dies makes the others fail within the collective timeout; restarting every
worker with --resume continues from the last checkpoint.
"""

import time

import keras
import tqdm

from erann_tf.data.audio import SAMPLE_RATE
from erann_tf.data.clips import SourceError
from erann_tf.data.loader import BadFiles, ClipLoader
from erann_tf.data.shards import Shards, read_shard_clips, training_stream
from erann_tf.training.distribute import WorkerLost
from erann_tf.training.loop import DataReport, RunInputs, finish, start
from erann_tf.training.recipes import get_recipe


def run_multiworker(run, config, settings, distribution, *, resume, progress):
    """Trains on TFRecord shards under distribution.strategy (a
    MultiWorkerMirroredStrategy); returns the run's metrics on every worker."""
    started = time.time()
    keras.utils.set_random_seed(config.seed)
    shards = _open_shards(config)
    global_batch = settings.batch_size * distribution.replicas
    steps = _steps_per_epoch(shards, config.fold, distribution.workers, global_batch)
    if config.max_clips:  # a quick run: fewer steps, each worker still reads its own shards
        steps = min(steps, max(1, config.max_clips // global_batch))
    chief = distribution.is_chief
    inputs = RunInputs(
        classes=tuple(shards.classes),
        steps=steps,
        val_loader=_validation(config, progress) if chief else None,
        bad_files=BadFiles(),  # the shards were checked when they were written
    )
    begun = start(
        run, config, settings, distribution, inputs, resume=resume, started=started, write=chief
    )
    try:
        batches = (steps, global_batch)
        _epochs(config, settings, distribution, shards, begun, batches, progress=progress and chief)
    except _lost_peer() as error:
        # Any step, or the collectives behind them, fails once a peer is gone.
        raise WorkerLost(
            f"a worker was lost ({type(error).__name__}); {run.path} holds the state after the "
            "last finished epoch: restart every worker with --resume"
        ) from None
    report = DataReport(
        train_clips=shards.count(shards.files(), config.fold),
        classes=list(shards.classes),
        missing_clips=shards.manifest["missing"],
        bad_files=shards.manifest["bad_files"],
    )
    return finish(run, config, settings, begun, report, started=started, write=chief)


def _epochs(config, settings, distribution, shards, begun, batches, *, progress):
    """The epochs left, each `batches` (steps, global batch size) over every
    worker's shards, driving the run's callbacks (the chief's; the others have none)."""
    trainer, (steps, global_batch) = begun.trainer, batches
    callbacks = keras.callbacks.CallbackList(
        begun.callbacks, model=trainer, epochs=settings.epochs, steps=steps, verbose=0
    )
    step = _distributed_step(trainer, distribution.strategy)
    recipe = get_recipe(settings.recipe)
    window = int(max(recipe.window_seconds, settings.crop_seconds) * SAMPLE_RATE)
    for epoch in range(begun.first_epoch, settings.epochs):

        def dataset(context, epoch=epoch):
            files = shards.files(context.input_pipeline_id, context.num_input_pipelines)
            batch = context.get_per_replica_batch_size(global_batch)
            return training_stream(shards, files, batch, window, config.seed, epoch, config.fold)

        iterator = iter(distribution.strategy.distribute_datasets_from_function(dataset))
        trainer.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        bar = tqdm.tqdm(range(steps), desc=f"epoch {epoch + 1}", disable=not progress)
        for _ in bar:
            logs = {k: float(v) for k, v in step(iterator).items()}
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
        callbacks.on_epoch_end(epoch, logs)


def _lost_peer():
    """The errors a step raises once a peer is gone."""
    import tensorflow as tf  # multiworker training is TensorFlow's alone

    errors = tf.errors
    return (
        errors.UnavailableError,
        errors.DeadlineExceededError,
        errors.CancelledError,
        errors.InternalError,
        errors.AbortedError,
    )


def _open_shards(config):
    try:
        shards = Shards.open(config.data)
    except SourceError as error:
        raise SourceError(f"--distribute multiworker reads TFRecord shards: {error}") from None
    if config.fold is not None and config.fold not in shards.manifest["folds"]:
        folds = ", ".join(shards.manifest["folds"])
        raise SourceError(f"fold {config.fold!r} does not exist; folds: {folds}")
    return shards


def _steps_per_epoch(shards, fold, workers, global_batch):
    """Steps every worker can take: its clips // its share of the batch, at
    the worker with the fewest clips (all must take the same steps)."""
    share = global_batch // workers
    fewest = min(shards.count(shards.files(w, workers), fold) for w in range(workers))
    if fewest < share:
        raise ValueError(
            f"a worker's shards hold {fewest} training clips, fewer than its batch of {share}; "
            "use a smaller --batch-size or --shard-size"
        )
    return fewest // share


def _validation(config, progress):
    if config.fold is None:
        return None
    clips = read_shard_clips(config.data, progress, fold=config.fold)
    return ClipLoader(clips, None, config.cache, config.on_bad_file).scan(progress)


def _distributed_step(trainer, strategy):
    import tensorflow as tf

    @tf.function
    def step(iterator):
        logs = strategy.run(trainer.train_step, args=(next(iterator),))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

    return step
