"""The VPoser-style VAE baseline prior (docs/baselines.md), re-implemented from its description.

Modules: :mod:`.model` (the v2 "V02_05" network and the v1 network, with the official module
names so official state dicts load as they are), :mod:`.official` (reading official V02_05
Lightning ``.ckpt`` and v1 ``.pt`` files, and posebench's own checkpoints), :mod:`.train` (the
training objective and loop with bit-identical resume) and :mod:`.prior` (``VPoserPrior``, the
``vposer`` prior: energies, projection, sampling and the latent-space capability).
"""
