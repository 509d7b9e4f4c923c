"""`erann cv`: k-fold cross-validation over the recipe's official folds."""

import dataclasses
import os

from erann_tf import strict_json

HELP = "k-fold cross-validation with the dataset's official folds"


def register(subparsers):
    from erann_tf.cli.train import add_training_arguments

    parser = subparsers.add_parser("cv", help=HELP, description=HELP + ".")
    add_training_arguments(parser, leave_out=("output", "fold", "distribute"))
    parser.add_argument(
        "--output",
        default="runs/cv",
        help="one run directory per fold under it; run again, the finished folds are collected "
        "and an interrupted one resumes (with the same settings)",
    )
    parser.add_argument(
        "--folds",
        help="comma-separated folds to run (default: all); processes that run different "
        "folds into one --output can work side by side, and a last plain run collects them",
    )
    parser.set_defaults(run=run)


def run(args):
    import numpy as np

    from erann_tf.atomic import write_json
    from erann_tf.cli.train import config_from_args
    from erann_tf.data.layouts import read_clips
    from erann_tf.training.evaluation import headline
    from erann_tf.training.fit import check_memory, resume_run, train
    from erann_tf.training.recipes import get_recipe
    from erann_tf.training.resume import check_same_training
    from erann_tf.training.run_folder import RunDir

    config = config_from_args(args, None, args.output)
    settings = config.resolved()
    check_memory(settings)
    folds = read_clips(config.layout or get_recipe(config.recipe).source, config.data).folds()
    if len(folds) < 2:
        raise ValueError(
            f"{config.data} has {len(folds)} fold(s); cross-validation needs two or more"
        )
    if args.folds:
        unknown = sorted(set(args.folds.split(",")) - set(folds))
        if unknown:
            raise ValueError(f"--folds {','.join(unknown)} do not exist; folds: {', '.join(folds)}")
        folds = tuple(f for f in folds if f in args.folds.split(","))
    scores = {}
    for fold in folds:
        output = os.path.join(args.output, f"fold-{fold}")
        teacher = tuple(spec.replace("{fold}", fold) for spec in config.teacher)
        fold_config = dataclasses.replace(config, fold=fold, output=output, teacher=teacher)
        run_dir = RunDir(output)
        begun = os.path.isfile(run_dir.config)
        if begun:  # an interrupted CV goes on here, with the settings it began with
            check_same_training(run_dir.load_config(), fold_config, output)
        result = run_dir.result()
        if result is None:
            print(f"== fold {fold} ({', '.join(folds)} in this run)")
            if begun:
                result = resume_run(output, max_minutes=config.max_minutes, data=config.data)
            else:
                result = train(fold_config)
        scores[fold] = headline(result["validation"])
    values = np.array(list(scores.values()))
    summary = {
        "recipe": settings.recipe,
        "tm": settings.tm,
        "width": settings.width,
        "folds": scores,
        "mean": float(values.mean()),
        "std": float(values.std()),
    }
    write_json(os.path.join(args.output, "cv.json"), summary)
    print(strict_json.dumps(summary))
    return 0
