"""`python -m erann_tf.cli`, the same as the `erann` command."""

import sys

from erann_tf.cli import main

sys.exit(main())
