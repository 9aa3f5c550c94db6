"""The ``loopwise`` command line."""
