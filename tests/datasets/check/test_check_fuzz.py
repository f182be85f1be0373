"""Bounded fuzzing of the annotation JSON: whatever the damage, check-data
answers with documented problem kinds and never raises."""
import json
import random

from panoptic_zoo.datasets.check import KINDS
from panoptic_zoo.datasets.synthetic import SYNTHETIC_METAINFO as META


def _nodes(value, path=()):
    """Every (path, container) of a parsed JSON."""
    if isinstance(value, (dict, list)):
        yield path, value
        items = value.items() if isinstance(value, dict) else enumerate(
            value)
        for key, child in items:
            yield from _nodes(child, path + (key, ))


def _mutate(rng, text, data):
    """One random corruption; returns the new file text."""
    how = rng.choice(['flip', 'truncate', 'delete', 'retype'])
    if how == 'flip':
        raw = bytearray(text.encode())
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return raw.decode('latin-1')
    if how == 'truncate':
        return text[:rng.randrange(len(text))]
    data = json.loads(text)
    containers = [c for _, c in _nodes(data) if c]
    node = rng.choice(containers)
    key = rng.choice(list(node) if isinstance(node, dict) else
                     range(len(node)))
    if how == 'delete':
        del node[key]
    else:
        node[key] = rng.choice([None, 'x', -1, 0, 2.5, [], {}, True,
                                1 << 30])
    return json.dumps(data)


def _canonical(text):
    return json.dumps(json.loads(text), sort_keys=True)


def test_fuzzed_json_gives_only_documented_problems(broken):
    rng = random.Random(0)
    original = broken.ann_file.read_text()
    kinds_seen = set()
    for _ in range(120):
        text = _mutate(rng, original, broken.data)
        broken.ann_file.write_text(text, encoding='latin-1')
        # must not raise; half the time also against the classes
        report = broken.check(jobs=1, metainfo=rng.choice([None, META]))
        assert set(report.counts) <= set(KINDS)
        kinds_seen |= set(report.counts)
        try:
            # dumps: True == 1 and 1.0 == 1 in Python, not in a JSON file
            unchanged = _canonical(text) == _canonical(original)
        except ValueError:
            assert report.counts['json-unreadable'] == 1
            continue
        if unchanged:
            assert report.ok
    # the fuzzing reached more than the parser
    assert len(kinds_seen) >= 8, kinds_seen
