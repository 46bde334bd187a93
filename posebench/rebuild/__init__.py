"""Build-time tools that rebuild the shipped data: the ASF/AMC reader, the retargeting onto the
embedded body and its report, the embedded motion build and the Anny body bake.

Nothing at run time imports this package; ``posebench data build-embedded`` and ``posebench body
bake`` do.
"""
