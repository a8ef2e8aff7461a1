"""Re-use the escalation tests' real webhook receivers."""

from tests.escalation.conftest import receivers

__all__ = ["receivers"]
