"""Every engine under test passes the packaged conformance suite."""

from oban.testing.conformance import *  # noqa: F403
