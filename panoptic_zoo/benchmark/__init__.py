"""Benchmark harness of ``panoptic-zoo benchmark``: every zoo model against
MMDetection's Panoptic FPN, in one run on one device.

``zoo`` (the model list), ``plan`` (checked arguments), ``inputs``,
``speed``, ``memory``, ``complexity`` (params, FLOPs, MFU), ``accuracy``
(PQ), ``report`` / ``plots`` (JSON, markdown, PNG), ``harness`` (the run),
``cli`` (arguments). Also the benchmarks of single parts: ``pq`` (PQ
evaluation against panopticapi) and ``roi_upsample`` (against mmcv's
RoIAlign).
"""
