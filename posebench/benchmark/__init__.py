"""The runner, result schema, seeding, device choice, configuration, progress and command line."""
