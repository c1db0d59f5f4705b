"""Left/right class pairs shared by the flip transform and flip testing."""
import numpy as np


def swap_permutation(num_classes, flip_pairs):
    """Class-id permutation that exchanges the ids of every flip pair.

    ``perm[c]`` is the id class ``c`` becomes after a horizontal flip, so
    ``label_map = perm[label_map]`` relabels a mirrored label map and
    ``logits[:, perm]`` reorders the channels of mirrored class scores.

    Args:
        num_classes (int): Length of the permutation (use 256 for a lookup
            table over uint8 label maps, which keeps 255 as 255).
        flip_pairs (Sequence[Sequence[int]]): Pairs ``(a, b)`` of class ids
            that swap under a horizontal flip, e.g. ``((4, 5), (6, 7))``.

    Returns:
        np.ndarray: int64 array of shape (num_classes,).

    Raises:
        ValueError: If a pair does not have two distinct ids, an id is out
            of ``[0, num_classes)`` or an id appears in more than one pair.
    """
    perm = np.arange(num_classes, dtype=np.int64)
    seen = set()
    for pair in flip_pairs:
        pair = tuple(pair)
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(
                f'flip pair {pair} must hold two different class ids')
        for class_id in pair:
            if not 0 <= int(class_id) < num_classes:
                raise ValueError(f'flip pair {pair}: class id {class_id} is '
                                 f'outside [0, {num_classes})')
            if class_id in seen:
                raise ValueError(
                    f'class id {class_id} appears in more than one flip pair '
                    f'of {list(flip_pairs)}')
            seen.add(class_id)
        first, second = int(pair[0]), int(pair[1])
        perm[first], perm[second] = second, first
    return perm
