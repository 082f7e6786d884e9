"""Exceptions raised by oban. Every message names the field or thing at fault and its value."""

from __future__ import annotations


class ObanError(Exception):
    """Base class of every error oban raises on purpose."""


class SchemaError(ObanError):
    """The database has no oban schema, or one at a version this code cannot use."""


class UnknownEngineError(ObanError):
    """A DSN names a scheme that no installed engine handles."""


class WorkerNotFoundError(ObanError):
    """A job's ``worker`` string does not resolve to an importable worker."""


class JobTimeoutError(ObanError):
    """A job ran past the timeout its worker allows."""


class InstanceNotFoundError(ObanError):
    """No ``Oban`` instance is registered under the requested name."""
