"""The kinds of problem a COCO panoptic dataset can have, and the report.

Every problem has a fixed ``kind`` (a stable key for scripts and tests), a
severity and a one-line fix. A :class:`Report` counts them per kind and keeps
the first examples, each naming the file and the image / segment id.
"""
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Union

ERROR, WARNING = 'error', 'warning'

Id = Union[int, str, None]

# kind: (severity, what is wrong, how to fix it)
KINDS: Dict[str, tuple] = {
    'json-unreadable': (ERROR, 'the annotation JSON cannot be read',
                        'restore the file from the download or rerun the '
                        'converter'),
    'json-structure': (ERROR, 'a key is missing or has the wrong type',
                       'follow the COCO panoptic format: images, '
                       'annotations, categories lists of dicts'),
    'category-field': (ERROR, 'a category lacks id, name or isthing (0/1)',
                       "give every category 'id', 'name' and 'isthing'"),
    'category-duplicate-id': (ERROR, 'two categories share an id',
                              'give each category its own id'),
    'category-duplicate-name': (ERROR, 'two categories share a name',
                                'rename one: classes are matched by name'),
    'class-not-in-json': (ERROR, "a class of the config's metainfo is not "
                          'a category of the JSON',
                          'use the JSON category names in metainfo.classes '
                          '(or the dataset type made for this JSON)'),
    'class-thing-mismatch': (ERROR, 'metainfo and JSON disagree on '
                             'thing/stuff',
                             "make metainfo.thing_classes the JSON's "
                             'isthing=1 categories'),
    'category-not-a-class': (ERROR, 'segments use a JSON category that is '
                             "not in the config's metainfo.classes",
                             'add the class to metainfo or drop its '
                             'segments'),
    'class-order': (ERROR, "the JSON lists the classes in another order "
                    "than metainfo (mmdet's CocoPanopticDataset labels by "
                    'JSON order)',
                    'write the categories in metainfo order, things first'),
    'image-field': (ERROR, 'an image lacks id, file_name, height or width',
                    "give every image 'id', 'file_name', 'height', "
                    "'width'"),
    'image-duplicate-id': (ERROR, 'two images share an id (one is dropped, '
                           'the other trained with merged segments)',
                           'give each image its own id'),
    'image-no-annotation': (ERROR, 'an image has no panoptic annotation',
                            "add its entry to 'annotations' or remove the "
                            'image'),
    'annotation-field': (ERROR, 'an annotation lacks image_id, file_name '
                         'or segments_info',
                         "give every annotation 'image_id', 'file_name', "
                         "'segments_info'"),
    'annotation-unknown-image': (ERROR, 'an annotation names an image id '
                                 "absent from 'images'",
                                 'fix its image_id or add the image'),
    'annotation-duplicate': (ERROR, 'two annotations for one image',
                             'merge them into one entry'),
    'segment-field': (ERROR, 'a segment lacks id, category_id, area or '
                      'bbox, or has a bad value',
                      "give every segment int 'id' in [1, 2^24), "
                      "'category_id', 'area', 'bbox' [x, y, w, h], "
                      "'iscrowd' 0/1"),
    'segment-id-range': (ERROR, 'a segment id is not in [1, 2^24): it has '
                         'no RGB colour of its own (0 is VOID; larger ids '
                         'collide with id mod 2^24)',
                         'renumber the segment (ids < 16777216, > 0)'),
    'segment-unknown-category': (ERROR, 'a segment has a category_id that '
                                 'is not a category',
                                 'fix the category_id or add the category'),
    'segment-duplicate-id': (ERROR, 'two segments of one image share an id',
                             'give each segment its own id (and colour)'),
    'image-empty': (WARNING, 'an image has no segment at all (all VOID); '
                    'training skips it', 'label it or remove it'),
    'image-missing': (ERROR, 'the image file does not exist',
                      'restore it, or fix file_name / the image folder'),
    'image-unreadable': (ERROR, 'the image file cannot be decoded',
                         'restore it from the download'),
    'image-size': (ERROR, "the image's size differs from the JSON's "
                   'height/width', 'fix height/width in the JSON'),
    'png-missing': (ERROR, 'the panoptic PNG does not exist',
                    'restore it, or fix the annotation file_name / the PNG '
                    'folder'),
    'png-unreadable': (ERROR, 'the panoptic PNG cannot be decoded',
                       'restore it or rerun the converter'),
    'png-size': (ERROR, 'the panoptic PNG and its image differ in size',
                 'write the PNG at the size of the image'),
    'png-mode': (WARNING, 'the panoptic PNG is not 8-bit RGB(A) (panopticapi '
                 'reads the three channels as R + 256 G + 256^2 B)',
                 'save the id map as an RGB PNG'),
    'png-id-not-in-json': (ERROR, "a segment id of the PNG is not in the "
                           "image's segments_info (its pixels would be "
                           'silently ignored)',
                           'add the segment to segments_info or paint it 0 '
                           '(VOID)'),
    'json-id-not-in-png': (ERROR, 'a segment of segments_info has no pixel '
                           'in the PNG (an empty mask would be trained)',
                           'remove the segment or paint it'),
    'png-bgr': (ERROR, 'the PNG ids are the JSON ids with R and B swapped '
                '(written BGR, e.g. by cv2.imwrite of an RGB array)',
                'rewrite the PNG in RGB order'),
    'area-mismatch': (ERROR, "a segment's area differs from its pixel count "
                      'in the PNG', 'set area to the pixel count'),
    'bbox-mismatch': (ERROR, "a segment's bbox differs from its pixels' "
                      'tight box in the PNG',
                      'set bbox to [x, y, w, h] of the pixels'),
    'png-shared': (ERROR, 'two annotations use the same PNG file',
                   'give each image its own PNG'),
}


@dataclass
class Problem:
    """One problem found, naming where it is."""
    kind: str
    file: str
    detail: str
    image_id: Id = None
    segment_id: Id = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise KeyError(f'unknown problem kind {self.kind!r}')

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    def line(self) -> str:
        where = [self.file]
        if self.image_id is not None:
            where.append(f'image {self.image_id!r}')
        if self.segment_id is not None:
            where.append(f'segment {self.segment_id}')
        return f'{", ".join(where)}: {self.detail}'


@dataclass
class Report:
    """Problems of one dataset split, counted per kind.

    Args:
        name (str): What was checked (split name or JSON path).
        max_examples (int): Examples kept per kind.
    """
    name: str
    max_examples: int = 5
    counts: Counter = field(default_factory=Counter)
    examples: Dict[str, List[Problem]] = field(
        default_factory=lambda: defaultdict(list))
    num_images: int = 0
    num_segments: int = 0
    pixels_checked: bool = False

    def add(self, problem: Problem) -> None:
        self.counts[problem.kind] += 1
        if len(self.examples[problem.kind]) < self.max_examples:
            self.examples[problem.kind].append(problem)

    def extend(self, problems) -> None:
        for problem in problems:
            self.add(problem)

    def num(self, severity: str) -> int:
        return sum(n for k, n in self.counts.items()
                   if KINDS[k][0] == severity)

    @property
    def ok(self) -> bool:
        return self.num(ERROR) == 0

    def all_examples(self) -> List[Problem]:
        return [p for kind in self.counts for p in self.examples[kind]]

    def first(self, kind: str) -> Optional[Problem]:
        found = self.examples.get(kind)
        return found[0] if found else None

    def text(self) -> str:
        """The human report: a summary line, then per kind its count,
        meaning, fix and first examples (errors first)."""
        what = 'annotations and pixels' if self.pixels_checked else \
            'annotations'
        head = (f'{self.name}: {self.num_images} images, '
                f'{self.num_segments} segments ({what} checked): '
                f'{self.num(ERROR)} errors, {self.num(WARNING)} warnings')
        lines = [head]
        order = sorted(self.counts, key=lambda k: (KINDS[k][0] != ERROR, k))
        for kind in order:
            severity, meaning, fix = KINDS[kind]
            lines.append(f'  {severity} {kind} x{self.counts[kind]}: '
                         f'{meaning}. Fix: {fix}.')
            for problem in self.examples[kind]:
                lines.append(f'    - {problem.line()}')
            more = self.counts[kind] - len(self.examples[kind])
            if more > 0:
                lines.append(f'    ... and {more} more')
        return '\n'.join(lines)

    def to_dict(self) -> dict:
        return dict(
            name=self.name,
            ok=self.ok,
            num_images=self.num_images,
            num_segments=self.num_segments,
            pixels_checked=self.pixels_checked,
            errors=self.num(ERROR),
            warnings=self.num(WARNING),
            problems={
                kind: dict(
                    severity=KINDS[kind][0],
                    count=self.counts[kind],
                    meaning=KINDS[kind][1],
                    fix=KINDS[kind][2],
                    examples=[asdict(p) for p in self.examples[kind]])
                for kind in sorted(self.counts)
            })


class DataCheckError(ValueError):
    """A dataset failed its check; the message is the report."""

    def __init__(self, reports: List[Report], what: str = (
            'the dataset has errors (run `panoptic-zoo check-data` for the '
            'full check; --skip-data-check skips this)')):
        self.reports = reports
        bad = [r for r in reports if not r.ok]
        super().__init__(f'{what}:\n' + '\n'.join(r.text() for r in bad))


def dump_json(reports: List[Report], path: str) -> None:
    with open(path, 'w') as f:
        json.dump(dict(ok=all(r.ok for r in reports),
                       splits=[r.to_dict() for r in reports]), f, indent=1,
                  default=str)
