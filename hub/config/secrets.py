"""``!secret name``: passwords and keys live in ``secrets.yaml`` beside the configuration.

The shop's configuration is shared with installers, pasted into support requests and
kept in version control; its passwords must not be. ``secrets.yaml`` is a flat mapping
of names to values, read only when the configuration uses ``!secret``, and only from
the configuration's own directory (no path in the tag, so a configuration cannot read
an arbitrary file).

A secret's value is the text as written (``pin: 0123`` gives ``"0123"``, not 83 as
YAML would read it), returned as ``SecretStr`` so that reprs hide it, and remembered
so the loader can hand the set to logging for redaction.

The checks that keep secrets secret are here too: ``secrets_file_issues`` refuses a
secrets file that other accounts can write (whoever changes it changes the keys that
sign escalations) and warns when they can read it; ``inline_secrets`` warns of a
secret written as plain text in the shop file instead of ``!secret name``.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Final

from hub.config.issues import ERROR, WARNING, ConfigIssue, IssueLog
from hub.config.model import SecretStr
from hub.yamlsource import (
    ROOT_PATH,
    Mark,
    TagError,
    YMap,
    YNode,
    YScalar,
    YSeq,
    join_path,
    read_yaml,
)

__all__ = [
    "SECRETS_FILE",
    "SECRET_KEYS",
    "SECRET_TAG",
    "SecretStore",
    "inline_secrets",
    "secrets_file_issues",
]

#: Keys whose value is a secret wherever they appear (a webhook's ``secret``, the MQTT
#: ``password``, a device's settings), and the endings that mark one (``api_secret``).
SECRET_KEYS: Final = frozenset({"secret", "password", "passphrase", "api_key", "private_key"})
_SECRET_ENDINGS: Final = ("_secret", "_password", "_passphrase")

SECRET_TAG: Final = "!secret"
SECRETS_FILE: Final = "secrets.yaml"
#: The example shipped beside the example configuration (``config/``).
EXAMPLE_FILE: Final = "secrets.example.yaml"


class SecretStore:
    """Reads ``secrets.yaml`` on first use and resolves names against it.

    Args:
        path: the secrets file.
        display: how to name it in messages (beside the configuration as given).
    """

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        self.used: set[str] = set()
        self._log = IssueLog(display)
        self._values: dict[str, SecretStr] | None = None
        self._missing = False

    @property
    def issues(self) -> list[ConfigIssue]:
        """Problems in the secrets file itself (reported with its own name and lines)."""
        return self._log.issues

    def _load(self) -> dict[str, SecretStr]:
        values: dict[str, SecretStr] = {}
        if not self.path.is_file():
            self._missing = True
            return values
        root, problems = read_yaml(self.path, construct=False)
        for problem in problems:
            self._log.add(problem.mark, problem.path, problem.reason)
        if root is None:
            return values
        if not isinstance(root, YMap):
            self._log.add(root, ROOT_PATH, "expected a mapping of secret names to values")
            return values
        for entry in root.entries.values():
            name = join_path("", entry.key.text)
            value = entry.value
            if not isinstance(value, YScalar) or value.tag is not None:
                self._log.add(value, name, "a secret must be a single plain value")
            elif value.value is None or value.text == "":
                self._log.add(value, name, "the secret is empty")
            elif isinstance(entry.key.value, str):
                values[entry.key.value] = SecretStr(value.text)
            else:
                self._log.add(entry.key, name, "a secret name must be a string")
        return values

    def _hint(self) -> str:
        """How to make the missing file: from the example shipped beside it, if any."""
        example = self.path.with_name(EXAMPLE_FILE)
        if example.is_file():
            shown = Path(self.display).with_name(EXAMPLE_FILE)
            return f" (copy the example: cp {shown} {self.display}, then fill in each value)"
        return " (create it beside the configuration, one 'name: value' line per secret)"

    def resolve(self, name: str) -> SecretStr:
        """The secret called ``name``; raises ``TagError`` (reported at the ``!secret``
        line) when the file or the name is missing."""
        if not name:
            raise TagError(f"{SECRET_TAG} needs a name, e.g. {SECRET_TAG} mqtt_password")
        if self._values is None:
            self._values = self._load()
        if self._missing:
            raise TagError(f"secret {name!r}: secrets file {self.display} not found{self._hint()}")
        value = self._values.get(name)
        if value is None:
            raise TagError(f"secret {name!r} is not defined in {self.display}")
        self.used.add(str(value))
        return value


def secrets_file_issues(path: Path, display: str) -> list[ConfigIssue]:
    """What is wrong with the secrets file's permissions (nothing when it is missing).

    Writable by group or others: an error (another account could replace the keys that
    sign escalations, or the MQTT password). Readable by them: a warning.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return []
    log = IssueLog(display)
    fix = f"chmod 600 {display}"
    if mode & 0o022:
        log.add(
            Mark(1, 1),
            "<file>",
            f"the secrets file is writable by other accounts (mode {mode:04o}): refused,"
            f" anyone who can change it changes the keys; {fix}",
            severity=ERROR,
        )
    elif mode & 0o044:
        log.add(
            Mark(1, 1),
            "<file>",
            f"the secrets file is readable by other accounts (mode {mode:04o}); {fix}",
            severity=WARNING,
        )
    return log.issues


def _is_secret_key(key: str) -> bool:
    key = key.lower()
    return key in SECRET_KEYS or key.endswith(_SECRET_ENDINGS)


def inline_secrets(log: IssueLog, node: YNode, path: str = "") -> None:
    """Warn of every secret written as plain text under ``node`` (a key such as
    ``secret`` or ``password`` whose value is not ``!secret name``)."""
    if isinstance(node, YMap):
        for entry in node.entries.values():
            child = join_path(path, entry.key.text)
            value = entry.value
            if (
                isinstance(value, YScalar)
                and value.tag is None
                and isinstance(entry.key.value, str)
                and _is_secret_key(entry.key.value)
                and value.value not in (None, "")
            ):
                log.add(
                    value,
                    child,
                    f"a secret written in the configuration itself: put it in {SECRETS_FILE}"
                    f" and write {SECRET_TAG} NAME here (the shop file is shared, the"
                    " secrets file is not)",
                    severity=WARNING,
                )
            else:
                inline_secrets(log, value, child)
    elif isinstance(node, YSeq):
        for i, item in enumerate(node.items):
            inline_secrets(log, item, f"{path}[{i}]")
