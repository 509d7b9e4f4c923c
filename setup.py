from setuptools import find_packages, setup

setup(
    name="erann_tf",
    version="0.1.0",
    description="Efficient Residual Audio Neural Networks (ERANNs) in Keras 3 / TensorFlow",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # The trained models in savedmodels/ install as the package erann_tf.savedmodels.
    packages=find_packages(include=["erann_tf", "erann_tf.*"]) + ["erann_tf.savedmodels"],
    package_dir={"erann_tf.savedmodels": "savedmodels"},
    package_data={"erann_tf.savedmodels": ["*.md", "*/*"]},
    install_requires=[
        "tensorflow==2.21.0",
        "keras==3.15.1",
        "keras-tuner==1.4.8",
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
        "soundfile==0.14.0",
        "soxr==1.1.0",
        "ai-edge-litert==2.3.0",
        "tensorboard==2.21.0",
        "tqdm==4.70.1",
        "matplotlib==3.11.2",
    ],
    extras_require={
        # selenium drives Debian's chromium for the browser page's test (tests/test_web.py);
        # pytest-xdist runs the suite on two processes (one traces graphs while the other
        # computes: the same tests in 39:34 instead of 57:49 on 2 cores).
        "dev": ["pytest==9.2.0", "pytest-xdist==3.8.0", "ruff==0.17.6", "selenium==4.38.0"],
        # keras-tuner imports six on the JAX backend.
        "jax": ["jax[cpu]==0.10.2", "six==1.17.0"],
        # benchmarks/pipeline.py measures a librosa.load loop as its baseline;
        # benchmarks/latency.py times the same backbone in PyTorch (CPU build).
        "bench": ["librosa==0.11.0", "torch==2.13.0"],
        # TFLite Model Metadata (its schema classes) and the MediaPipe Tasks tests.
        "mediapipe": ["mediapipe==1.2.3"],
    },
    entry_points={"console_scripts": ["erann=erann_tf.cli:main"]},
)
