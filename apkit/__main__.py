import sys

from apkit.cli import main

sys.exit(main())
