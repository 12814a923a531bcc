"""Shared test setup: a non-interactive matplotlib backend, chosen before any import."""

import matplotlib

matplotlib.use("Agg")
