"""The floor every other part stands on: errors, configs, seeds, devices, progress, hashes,
atomic writes, npz files, package paths and the version. Imports nothing else from posebench."""
