"""Enforcement (PEP): guards that ask the PDP and write the audit record, and the stream proxy."""
