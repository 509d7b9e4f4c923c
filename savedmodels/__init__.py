"""Trained ERANNs shipped with erann_tf (installed as erann_tf.savedmodels).

Each folder holds model.keras, labels.txt, metadata.json, a README.md model
card and TFLite versions; see README.md here and `ERANN.from_preset(name)`.
"""
