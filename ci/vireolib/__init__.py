"""The ./vireo commands (see ci/vireo.py)."""
