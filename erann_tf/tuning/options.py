"""The tuners `erann tune` offers, importable without KerasTuner (for `--help`)."""

TUNERS = ("random", "hyperband", "bayesian")
