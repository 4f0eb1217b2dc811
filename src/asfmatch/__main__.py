"""`python -m asfmatch` runs the same command line as `asfmatch`."""

from asfmatch.cli import main

raise SystemExit(main())
