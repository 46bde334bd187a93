"""The Pose-NDF network (docs/posendf.md): a hierarchical per-joint encoder and a distance MLP.

The 21 tiny per-joint MLPs ("BoneMLPs") are fused: their weights are stored stacked as
``(21, in, out)`` tensors and scattered into block-diagonal matrices per depth of the kinematic
tree, so each depth costs two GEMMs (first layer on [quaternions, parent features], second
layer) instead of two small launches per joint.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from posebench.body.base import NUM_BODY_JOINTS
from posebench.core.errors import ConfigError

QUAT_DIM = 4

#: Parent of each of the 21 body joints (index into the 21-joint array, -1 = root of the tree).
PARENT_TABLES: dict[str, tuple[int, ...]] = {
    # The table the released "version2" checkpoint was trained with: SMPL 24-joint parents of
    # joints 1..21 used without subtracting 1, i.e. off by one.
    "official_v2": (-1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19),
    # The anatomically correct table for this layout (as in NRDF): the default for new training.
    "anatomical": (-1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 11, 12, 13, 15, 16, 17, 18),
}

ACTIVATIONS = ("relu", "lrelu", "softplus")


def parent_table(name: str) -> tuple[int, ...]:
    """The parent table called ``name``; a one-line error for an unknown one."""
    if name not in PARENT_TABLES:
        raise ConfigError(
            f"prior 'posendf' config model.parents is {name!r}; use one of "
            f"{', '.join(PARENT_TABLES)}"
        )
    return PARENT_TABLES[name]


def activation(name: str, beta: float) -> nn.Module:
    """The module for an activation name: relu, lrelu (slope 0.01) or softplus(beta)."""
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU()
    if name == "softplus":
        return nn.Softplus(beta=beta)
    raise ConfigError(
        f"prior 'posendf' activation {name!r} is unknown; use one of {', '.join(ACTIVATIONS)}"
    )


def tree_levels(parents: Sequence[int]) -> list[list[int]]:
    """Joints grouped by depth in the tree (roots first); parents must precede children."""
    depth: list[int] = []
    for joint, parent in enumerate(parents):
        if parent >= joint:
            raise ConfigError(f"parent table: joint {joint} has parent {parent} >= itself")
        depth.append(0 if parent < 0 else depth[parent] + 1)
    return [[j for j, d in enumerate(depth) if d == level] for level in range(max(depth) + 1)]


def _uniform(generator: torch.Generator | None, shape: Sequence[int], bound: float) -> torch.Tensor:
    return (torch.rand(*shape, generator=generator) * 2.0 - 1.0) * bound


class StructureEncoder(nn.Module):
    """21 BoneMLPs, Linear(in, hidden) -> act -> Linear(hidden, feature) -> act, hierarchical.

    Joint ``i`` sees its quaternion (roots) or its quaternion followed by its parent's feature.
    Weights (``[in, out]`` layout, stacked over joints): ``w1q`` (21, 4, H) for the quaternion
    part of the first layer, ``w1f`` (21, F, H) for the parent-feature part (zero and unused for
    roots), ``b1`` (21, H), ``w2`` (21, H, F), ``b2`` (21, F).
    """

    def __init__(
        self,
        parents: Sequence[int],
        act: str = "softplus",
        beta: float = 100.0,
        hidden: int = 10,
        feature: int = 6,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if len(parents) != NUM_BODY_JOINTS:
            raise ConfigError(
                f"parent table has {len(parents)} entries; expected {NUM_BODY_JOINTS}"
            )
        self.parents = tuple(int(p) for p in parents)
        self.hidden, self.feature = hidden, feature
        self.act = activation(act, beta)
        roots = [p < 0 for p in self.parents]
        w1q = torch.empty(NUM_BODY_JOINTS, QUAT_DIM, hidden)
        w1f = torch.zeros(NUM_BODY_JOINTS, feature, hidden)
        b1 = torch.empty(NUM_BODY_JOINTS, hidden)
        w2 = torch.empty(NUM_BODY_JOINTS, hidden, feature)
        b2 = torch.empty(NUM_BODY_JOINTS, feature)
        for j in range(NUM_BODY_JOINTS):  # torch.nn.Linear's default init, per joint
            bound = 1.0 / math.sqrt(QUAT_DIM if roots[j] else QUAT_DIM + feature)
            w1q[j] = _uniform(generator, (QUAT_DIM, hidden), bound)
            if not roots[j]:
                w1f[j] = _uniform(generator, (feature, hidden), bound)
            b1[j] = _uniform(generator, (hidden,), bound)
            bound = 1.0 / math.sqrt(hidden)
            w2[j] = _uniform(generator, (hidden, feature), bound)
            b2[j] = _uniform(generator, (feature,), bound)
        self.w1q, self.w1f, self.b1 = nn.Parameter(w1q), nn.Parameter(w1f), nn.Parameter(b1)
        self.w2, self.b2 = nn.Parameter(w2), nn.Parameter(b2)

        self._levels = tree_levels(self.parents)
        order = [j for level in self._levels for j in level]  # evaluation order
        pos = {j: i for i, j in enumerate(order)}
        self._bounds = []  # (first, last + 1) level-order positions of each level
        first = 0
        for level in self._levels:
            self._bounds.append((first, first + len(level)))
            first += len(level)
        # Scatter maps from the stacked per-joint weights to block-diagonal matrices in level
        # order: (21*4, 21*H) quaternion part and (21*F, 21*H) parent-feature part of the
        # first layers (rows of a joint's own block), (21*H, 21*F) second layers.
        n, q, h, f = NUM_BODY_JOINTS, QUAT_DIM, hidden, feature
        pj = torch.tensor([pos[j] for j in range(n)])
        self._q_index = _block_index(pj, q, h)
        child = torch.tensor([not r for r in roots])[:, None, None].expand(n, f, h).reshape(-1)
        self._f_source = torch.nonzero(child).squeeze(1)
        self._f_index = _block_index(pj, f, h)[child]
        self._w2_index = _block_index(pj, h, f)
        self._order = torch.tensor(order)
        self._frozen: list[tuple[torch.Tensor, ...]] | None = None
        self._cache: tuple[tuple, list[tuple[torch.Tensor, ...]]] | None = None

    @property
    def out_dim(self) -> int:
        """Size of the concatenated features: 21 x feature."""
        return NUM_BODY_JOINTS * self.feature

    def _to(self, device: torch.device) -> None:
        if self._order.device != device:
            for name in ("_q_index", "_f_source", "_f_index", "_w2_index", "_order"):
                setattr(self, name, getattr(self, name).to(device))

    def level_weights(self) -> list[tuple[torch.Tensor, ...]]:
        """Per tree level: (first-layer block matrix, its bias, second-layer block matrix, its
        bias), built from the stacked weights (differentiable). The first-layer rows are the
        level's quaternions, then (below the root level) their parents' features."""
        self._to(self.w1q.device)
        n, q, h, f = NUM_BODY_JOINTS, QUAT_DIM, self.hidden, self.feature

        def scatter(
            rows: int, cols: int, index: torch.Tensor, values: torch.Tensor
        ) -> torch.Tensor:
            flat = values.new_zeros(rows * cols).index_copy(0, index, values)
            return flat.view(rows, cols)

        wq = scatter(n * q, n * h, self._q_index, self.w1q.reshape(-1))
        wf = scatter(n * f, n * h, self._f_index, self.w1f.reshape(-1)[self._f_source])
        w2 = scatter(n * h, n * f, self._w2_index, self.w2.reshape(-1))
        b1 = self.b1[self._order].reshape(-1)
        b2 = self.b2[self._order].reshape(-1)
        out: list[tuple[torch.Tensor, ...]] = []
        for first, last in self._bounds:
            w1 = wq[q * first : q * last, h * first : h * last]
            if first > 0:  # every joint below the roots has a parent
                w1 = torch.cat([w1, wf[f * first : f * last, h * first : h * last]])
            out.append(
                (
                    w1,
                    b1[h * first : h * last],
                    w2[h * first : h * last, f * first : f * last],
                    b2[f * first : f * last],
                )
            )
        return out

    def _weights(self) -> list[tuple[torch.Tensor, ...]]:
        """The level weights; cached while no parameter requires a gradient (an inference-only
        model, as the prior's), rebuilt whenever a parameter changes."""
        params = list(self.parameters())
        if any(p.requires_grad for p in params):
            self._cache = None
            return self.level_weights()
        key = tuple((p._version, p.data_ptr(), p.dtype, p.device) for p in params)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.level_weights())
        return self._cache[1]

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Build the block matrices once for many forward passes that need no weight gradients
        (projection): inside, input gradients are still exact."""
        with torch.no_grad():
            self._frozen = self.level_weights()
        try:
            yield
        finally:
            self._frozen = None

    def forward(self, quat: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 4)`` quaternions -> ``(B, 21 * feature)`` features in joint order.

        Activations are only split and concatenated (never sliced or indexed), so the backward
        pass copies gradients instead of filling zero tensors.
        """
        self._to(quat.device)
        weights = self._frozen if self._frozen is not None else self._weights()
        joint_quat = quat.unbind(dim=1)
        joint_feat: list[torch.Tensor | None] = [None] * NUM_BODY_JOINTS
        for level, (w1, b1, w2, b2) in zip(self._levels, weights, strict=True):
            inputs = [joint_quat[j] for j in level]
            if self.parents[level[0]] >= 0:
                inputs += [joint_feat[self.parents[j]] for j in level]  # type: ignore[misc]
            hid = self.act(torch.addmm(b1, torch.cat(inputs, dim=1), w1))
            feat = self.act(torch.addmm(b2, hid, w2))
            for j, part in zip(level, feat.split(self.feature, dim=1), strict=True):
                joint_feat[j] = part
        return torch.cat(joint_feat, dim=1)  # type: ignore[arg-type]


def _block_index(position: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """Flat indices that place joint j's (rows, cols) block at block (pos_j, pos_j) of a
    (21*rows, 21*cols) matrix, for values laid out as a (21, rows, cols) stack."""
    n = len(position)
    ja, ra, ca = torch.meshgrid(
        torch.arange(n), torch.arange(rows), torch.arange(cols), indexing="ij"
    )
    return ((rows * position[ja] + ra) * (n * cols) + cols * position[ja] + ca).reshape(-1)


#: DFNet initialisations: torch's default (the published code) or the one below (_kaiming).
INITS = ("torch", "kaiming")


class DistanceMLP(nn.Module):
    """DFNet: Linear layers in -> dims... -> 1, hidden activation after each hidden layer and
    ReLU (relu/lrelu) or softplus (softplus) on the output: an unsigned distance."""

    def __init__(
        self,
        in_dim: int,
        dims: Sequence[int],
        act: str = "softplus",
        beta: float = 100.0,
        generator: torch.Generator | None = None,
        init: str = "torch",
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise ConfigError(
                f"prior 'posendf' model.init is {init!r}; use one of {', '.join(INITS)}"
            )
        sizes = [in_dim, *[int(d) for d in dims], 1]
        self.layers = nn.ModuleList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            layer = nn.Linear(fan_in, fan_out)
            bound = 1.0 / math.sqrt(fan_in)
            with torch.no_grad():
                layer.weight.copy_(_uniform(generator, (fan_out, fan_in), bound))
                layer.bias.copy_(_uniform(generator, (fan_out,), bound))
            self.layers.append(layer)
        if init == "kaiming":
            self._kaiming(generator)
        self.act = activation(act, beta)
        self.out_act = nn.Softplus(beta=beta) if act == "softplus" else nn.ReLU()

    @torch.no_grad()
    def _kaiming(self, generator: torch.Generator | None) -> None:
        """Hidden weights N(0, 2 / fan_in), hidden biases 0, output bias 0.1.

        torch's default init shrinks the input-dependent signal about 2.5x per layer here (the
        pre-activations stay inside softplus(beta=100)'s 0.01-wide corner, where its slope is
        about 1/2), so after 7 layers the distance barely depends on the pose and training stalls
        ("gradient disappearance"). This init keeps it about constant through the
        layers, and the output bias starts the output in softplus's linear region.
        """
        *hidden, last = self.layers
        for layer in hidden:
            assert isinstance(layer, nn.Linear)  # __init__ builds only Linear layers
            fan_in = layer.weight.shape[1]
            noise = torch.randn(layer.weight.shape, generator=generator)
            layer.weight.copy_(noise * math.sqrt(2.0 / fan_in))
            layer.bias.zero_()
        assert isinstance(last, nn.Linear)
        last.bias.fill_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_dim)`` -> ``(B,)`` distances >= 0."""
        *hidden, last = self.layers
        for layer in hidden:
            x = self.act(layer(x))
        return self.out_act(last(x)).squeeze(-1)


class PoseNDF(nn.Module):
    """The full model: distance = DFNet(StructureEncoder(quaternions))."""

    def __init__(
        self,
        parents: Sequence[int],
        dims: Sequence[int],
        encoder_act: str = "softplus",
        act: str = "softplus",
        beta: float = 100.0,
        encoder_beta: float = 100.0,
        hidden: int = 10,
        feature: int = 6,
        generator: torch.Generator | None = None,
        init: str = "torch",
    ) -> None:
        super().__init__()
        self.encoder = StructureEncoder(
            parents, encoder_act, encoder_beta, hidden, feature, generator
        )
        self.dfnet = DistanceMLP(self.encoder.out_dim, dims, act, beta, generator, init)

    def forward(self, quat: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 4)`` canonical quaternions (w >= 0, unit) -> ``(B,)`` predicted distance."""
        return self.dfnet(self.encoder(quat))

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Many forward passes without weight gradients (projection): build weights once."""
        with self.encoder.frozen():
            yield


def build_model(config: Mapping[str, Any], generator: torch.Generator | None = None) -> PoseNDF:
    """A :class:`PoseNDF` from the ``model`` section of the posebench config."""
    dims = config["dims"]
    if isinstance(dims, str):
        dims = [int(d) for d in dims.split(",") if d.strip()]
    return PoseNDF(
        parents=parent_table(config["parents"]),
        dims=[int(d) for d in dims],
        encoder_act=config["encoder_act"],
        act=config["act"],
        beta=float(config["beta"]),
        encoder_beta=float(config["encoder_beta"]),
        hidden=int(config["hidden"]),
        feature=int(config["feature"]),
        generator=generator,
        init=config.get("init", "torch"),
    )


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, not counting the structurally-zero root rows of ``w1f``."""
    total = sum(p.numel() for p in model.parameters())
    for module in model.modules():
        if isinstance(module, StructureEncoder):
            roots = sum(1 for p in module.parents if p < 0)
            total -= roots * module.feature * module.hidden
    return total
