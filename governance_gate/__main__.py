import sys

from governance_gate.client import main

sys.exit(main())
