"""The Anny phenotype the embedded body is baked with (anny's labels, values in [0, 1]).

Kept apart from the bake so that ``posebench body bake --help`` can show it without torch.
"""

#: The pinned phenotype. anny's all-0.5 default is a 1.63 m, ~13-year-old body; this is an adult
#: (morphological age ~26 years on anny's calibration, whose anchors put 0.77 at 18 and 0.83 at
#: 64 years), gender 0.5 (androgynous, like SMPL's neutral model; anny's 0 is male), everything
#: else at anny's average.
DEFAULT_PHENOTYPE: dict[str, float] = {
    "gender": 0.5,
    "age": 0.78,
    "muscle": 0.5,
    "weight": 0.5,
    "height": 0.5,
    "proportions": 0.5,
}
