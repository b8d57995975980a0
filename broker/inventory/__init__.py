"""Inventory: the loaded documents, the compiled policy, and the adapters of the camera systems."""
