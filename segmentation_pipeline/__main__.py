"""Entry point for `python -m segmentation_pipeline`."""

from segmentation_pipeline.cli import main

raise SystemExit(main())
