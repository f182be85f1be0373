"""Benchmark harness of ``panoptic-zoo benchmark``: every zoo model against
MMDetection's Panoptic FPN, in one run on one device.

``zoo`` (the model list), ``plan`` (checked arguments), ``inputs``,
``speed``, ``memory``, ``complexity`` (params, FLOPs, MFU), ``accuracy``
(PQ), ``report`` / ``plots`` (JSON, markdown, PNG), ``harness`` (the run),
``cli`` (arguments).
"""
