"""``posebench view``: pose, projection-step and motion files in the browser (extra ``viz``).

:mod:`.inputs` reads what to show, :mod:`.frames` turns it into per-frame vertices and prior
distances, :mod:`.playback` moves the frame, :mod:`.viewer` draws it with viser; the command line is
:mod:`posebench.cli.view`. Only :mod:`.viewer` needs viser.
"""
