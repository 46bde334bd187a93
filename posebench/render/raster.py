"""A small z-buffer rasteriser in torch: triangle meshes and skeletons to shaded RGB images.

Vectorised over faces (no Python loop per triangle): faces are grouped by the size of their
pixel bounding box, every candidate pixel is tested with edge functions, and the nearest face
per pixel wins through one ``scatter_reduce`` on a key that packs depth above the face index.
Shading is Lambert with two lights on perspective-correct interpolated vertex normals.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posebench.render.camera import OrbitCamera

_FACE_BITS = 24  # faces per mesh < 16.7 M; depth is quantised above these bits
_DEPTH_SCALE = 1e4  # depth quantum 0.1 mm
_EMPTY = torch.iinfo(torch.int64).max

#: Light directions (towards the light) in camera coordinates: right, down, forward.
_KEY_LIGHT = (-0.45, -0.55, -0.70)
_FILL_LIGHT = (0.6, 0.1, -0.8)


@dataclass
class Fragments:
    """Per pixel: the visible face (-1 where empty) and its perspective-correct barycentrics."""

    face: torch.Tensor  # (H, W) long
    bary: torch.Tensor  # (H, W, 3)


def _edge(a: torch.Tensor, b: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Twice the signed area of (a, b, p): which side of the edge a->b the pixel lies on."""
    return (b[..., 0:1] - a[..., 0:1]) * (py - a[..., 1:2]) - (b[..., 1:2] - a[..., 1:2]) * (
        px - a[..., 0:1]
    )


def _barycentric(tri: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """(K, P, 3) screen-space barycentrics of pixel centres (K, P) in triangles (K, 3, 2)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    area = _edge(a, b, c[:, 0:1], c[:, 1:2])
    area = torch.where(area.abs() < 1e-12, torch.full_like(area, 1e-12), area)
    return torch.stack(
        [_edge(b, c, px, py) / area, _edge(c, a, px, py) / area, _edge(a, b, px, py) / area], -1
    )


def _window_sizes(largest: int) -> list[int]:
    """Square window sides 1, 2, 3, 4, 6, 8, 11, 16, ... up to ``largest``."""
    sizes: list[int] = []
    size = 1.0
    while not sizes or sizes[-1] < largest:
        sizes.append(max(round(size), sizes[-1] + 1 if sizes else 1))
        size *= 2**0.5
    return sizes


def rasterize(screen: torch.Tensor, faces: torch.Tensor, height: int, width: int) -> Fragments:
    """Visible face and barycentrics per pixel of vertices ``screen`` (V, 3): x, y pixels, depth."""
    tri = screen[faces]  # (F, 3, 3)
    front = (tri[..., 2] > 1e-3).all(dim=1)
    low = tri[..., :2].amin(dim=1)
    high = tri[..., :2].amax(dim=1)
    # pixel i covers centre i + 0.5: first and last centre inside the bounding box
    first = torch.ceil(low - 0.5).long()
    last = torch.floor(high - 0.5).long()
    first[:, 0].clamp_(0, width)
    first[:, 1].clamp_(0, height)
    last[:, 0].clamp_(max=width - 1)
    last[:, 1].clamp_(max=height - 1)
    span = (last - first + 1).amax(dim=1)
    span = torch.where(front & ((last - first) >= 0).all(dim=1), span, torch.zeros_like(span))

    pixel_ids, keys = [], []
    # bounding boxes grouped by size (steps of about sqrt 2) so few candidate pixels are wasted
    lower = 0
    for size in _window_sizes(int(span.max())):
        selected = torch.nonzero((span <= size) & (span > lower)).squeeze(1)
        lower = size
        if len(selected) == 0:
            continue
        s = size
        offsets = torch.arange(s, device=screen.device)
        ox = offsets.repeat(s)
        oy = offsets.repeat_interleave(s)
        px = first[selected, 0:1] + ox  # (K, s*s)
        py = first[selected, 1:2] + oy
        inside_box = (px <= last[selected, 0:1]) & (py <= last[selected, 1:2])
        corners = tri[selected]
        weights = _barycentric(corners[..., :2], px + 0.5, py + 0.5)
        inside = inside_box & (weights >= -1e-6).all(dim=-1)
        inverse_depth = (weights / corners[:, None, :, 2]).sum(dim=-1)
        depth = 1.0 / inverse_depth.clamp_min(1e-9)
        key = (depth * _DEPTH_SCALE).long() * (1 << _FACE_BITS) + selected[:, None]
        pixel_ids.append((py * width + px)[inside])
        keys.append(key[inside])

    buffer = torch.full((height * width,), _EMPTY, dtype=torch.int64, device=screen.device)
    if pixel_ids:
        buffer.scatter_reduce_(0, torch.cat(pixel_ids), torch.cat(keys), reduce="amin")
    covered = buffer != _EMPTY
    face = torch.full((height * width,), -1, dtype=torch.int64, device=screen.device)
    face[covered] = buffer[covered] % (1 << _FACE_BITS)

    bary = torch.zeros(height * width, 3, dtype=screen.dtype, device=screen.device)
    index = torch.nonzero(covered).squeeze(1)
    if len(index):
        corners = tri[face[index]]
        px = (index % width).to(screen.dtype)[:, None] + 0.5
        py = (index // width).to(screen.dtype)[:, None] + 0.5
        weights = _barycentric(corners[..., :2], px, py)[:, 0]
        weights = weights / corners[..., 2]  # perspective correction
        bary[index] = weights / weights.sum(dim=-1, keepdim=True)
    return Fragments(face.view(height, width), bary.view(height, width, 3))


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """(V, 3) unit normals: area-weighted sums of the adjacent faces' normals."""
    tri = vertices[faces]
    face_normals = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = torch.zeros_like(vertices)
    for corner in range(3):
        normals.index_add_(0, faces[:, corner], face_normals)
    return torch.nn.functional.normalize(normals, dim=-1, eps=1e-12)


def _lambert(normal: torch.Tensor) -> torch.Tensor:
    """Brightness of camera-space unit normals (..., 3), lit two-sided by a key and a fill light."""
    key = torch.tensor(_KEY_LIGHT, dtype=normal.dtype, device=normal.device)
    fill = torch.tensor(_FILL_LIGHT, dtype=normal.dtype, device=normal.device)
    # face the camera: a normal pointing away belongs to a back face seen from behind
    normal = torch.where(normal[..., 2:3] > 0, -normal, normal)
    key = torch.nn.functional.normalize(key, dim=0)
    fill = torch.nn.functional.normalize(fill, dim=0)
    return 0.30 + 0.60 * (normal @ key).clamp_min(0) + 0.25 * (normal @ fill).clamp_min(0)


def shade_mesh(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    camera: OrbitCamera,
    target: torch.Tensor,
    color: tuple[float, float, float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, 3) shaded colour and (H, W) coverage of a mesh seen by ``camera``."""
    screen = camera.project(vertices, target)
    local = vertices @ camera.axes(vertices.dtype).to(vertices.device).T  # camera axes
    return shade_projected(local, screen, faces, camera.height, camera.width, color)


def shade_projected(
    local: torch.Tensor,
    screen: torch.Tensor,
    faces: torch.Tensor,
    height: int,
    width: int,
    color: tuple[float, float, float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, 3) shaded colour and (H, W) coverage of a mesh already projected: ``screen`` (V, 3)
    pixel x, y and depth, ``local`` (V, 3) the vertices in camera axes (x right, y down, z
    forward), which the shading's normals need. Any camera that gives these can draw a mesh:
    the orbit camera of pictures and image fitting's pinhole camera alike."""
    fragments = rasterize(screen, faces, height, width)
    covered = fragments.face >= 0
    normals = vertex_normals(local, faces)
    image = torch.zeros(height, width, 3, dtype=local.dtype)
    if covered.any():
        corner_normals = normals[faces[fragments.face[covered]]]  # (P, 3, 3)
        normal = (fragments.bary[covered][..., None] * corner_normals).sum(dim=1)
        normal = torch.nn.functional.normalize(normal, dim=-1, eps=1e-12)
        albedo = torch.tensor(color, dtype=local.dtype, device=local.device)
        image[covered] = (_lambert(normal)[:, None] * albedo).clamp(0, 1).cpu()
    return image, covered.cpu()


def shade_skeleton(
    joints: torch.Tensor,
    parents: torch.Tensor,
    colors: torch.Tensor,
    camera: OrbitCamera,
    target: torch.Tensor,
    radius: float = 0.022,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, 3) colour and (H, W) coverage of bones (tubes) and joints (balls), depth-tested.

    ``colors`` (J, 3) colours each joint and the bone to its parent. Bones and joints are drawn
    in screen space with tube-like shading; each is tested against a depth buffer.
    """
    height, width = camera.height, camera.width
    screen = camera.project(joints.double(), target.double()).cpu()
    pixel_radius = radius * camera.focal / screen[:, 2].clamp_min(1e-3)
    depth = torch.full((height, width), float("inf"), dtype=torch.float64)
    image = torch.ones(height, width, 3, dtype=torch.float64)
    colors = colors.double().cpu()
    pieces = [(j, int(parents[j])) for j in range(len(joints)) if int(parents[j]) >= 0]
    pieces += [(j, j) for j in range(len(joints))]
    for child, parent in pieces:
        a, b = screen[parent], screen[child]
        r = float(max(pixel_radius[parent], pixel_radius[child])) * (1.35 if child == parent else 1)
        x0 = max(int(min(a[0], b[0]) - r - 1), 0)
        x1 = min(int(max(a[0], b[0]) + r + 2), width)
        y0 = max(int(min(a[1], b[1]) - r - 1), 0)
        y1 = min(int(max(a[1], b[1]) + r + 2), height)
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = torch.meshgrid(
            torch.arange(y0, y1, dtype=torch.float64) + 0.5,
            torch.arange(x0, x1, dtype=torch.float64) + 0.5,
            indexing="ij",
        )
        direction = b[:2] - a[:2]
        length2 = float(direction.dot(direction))
        if length2 > 1e-12:
            t = (((xs - a[0]) * direction[0] + (ys - a[1]) * direction[1]) / length2).clamp(0, 1)
        else:
            t = torch.zeros_like(xs)
        dx = xs - (a[0] + t * direction[0])
        dy = ys - (a[1] + t * direction[1])
        off = (dx**2 + dy**2).sqrt() / r
        bulge = (1 - off.clamp(max=1) ** 2).sqrt()
        z = a[2] + t * (b[2] - a[2]) - radius * bulge
        window = depth[y0:y1, x0:x1]
        visible = (off < 1) & (z < window)
        window[visible] = z[visible]
        brightness = (0.45 + 0.55 * bulge)[visible]
        image[y0:y1, x0:x1][visible] = brightness[:, None] * colors[child]
    return image, torch.isfinite(depth)
