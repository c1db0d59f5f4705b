"""Render the in-the-wild pipeline on generated faces: a two-panel PNG.

Usage::

    python tools/wild_example.py OUT.png [--config CONFIG --checkpoint CKPT]
        [--alignment celeba_hq|farl|box] [--seed 0]

Generated faces are pasted onto a canvas under known rotations and scales
(``compose_wild_scene``). Left: the image with each face's five points and
the outline of its aligned crop. Right: the labels pasted back into the
image. With ``--config``/``--checkpoint`` a model parses the crops (the
faces' known landmarks stand in for detection); without, each crop's
ground-truth labels stand in for a model, which shows the geometry of
alignment and paste-back alone.
"""
import argparse

import cv2
import numpy as np

# Three faces of different sizes and turns, one running off the right edge.
PLACEMENTS = [(25, 0.75, (120, 150)), (-20, 1.0, (330, 165)),
              (35, 0.5, (520, 110))]
CANVAS = (300, 560)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Render detect-align-parse-paste on generated faces')
    parser.add_argument('out', help='output PNG')
    parser.add_argument('--config', help='model config (with --checkpoint)')
    parser.add_argument('--checkpoint', help='model weights')
    parser.add_argument(
        '--alignment', default='celeba_hq',
        choices=('celeba_hq', 'farl', 'box'), help='crop preset')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


# Annotation colours (RGB), kept exact in the palette PNG.
ANNOTATION_COLOURS = ((255, 255, 255), (0, 0, 0), (255, 255, 0))


def annotation_layer(shape, faces, warps):
    """Crop outlines (1) and five points (2 border, 3 fill) as a layer."""
    layer = np.zeros(shape[:2], np.uint8)
    for face, warp in zip(faces, warps):
        low, high = -0.5, warp.crop_size - 0.5
        if warp.warp_factor > 0:  # the tanh crop's linear core
            low, high = [warp.crop_size * (0.5 + s * (1 - warp.warp_factor) /
                                           2) - 0.5 for s in (-1, 1)]
        corners = warp.crop_to_image([(low, low), (high, low), (high, high),
                                      (low, high)])
        cv2.polylines(layer, [np.round(corners).astype(np.int32)], True, 1)
        for x, y in face.landmarks:
            centre = (int(round(x)), int(round(y)))
            cv2.circle(layer, centre, 4, 2, -1)
            cv2.circle(layer, centre, 3, 3, -1)
    return layer


def save_palette_png(path, bgr, layer):
    """A 256-colour PNG (small despite the faces' noise) of ``bgr`` with the
    annotation ``layer`` painted in exact colours on top."""
    from PIL import Image
    reserved = len(ANNOTATION_COLOURS)
    indexed = Image.fromarray(bgr[..., ::-1].copy()).quantize(
        colors=256 - reserved)
    palette = indexed.getpalette()[:3 * (256 - reserved)]
    palette += [value for colour in ANNOTATION_COLOURS for value in colour]
    indices = np.array(indexed)
    marked = layer > 0
    indices[marked] = 256 - reserved + layer[marked] - 1
    out = Image.fromarray(indices, mode='P')
    out.putpalette(palette)
    out.save(path, optimize=True)


def main():
    args = parse_args()
    if bool(args.config) != bool(args.checkpoint):
        raise SystemExit('tools/wild_example.py: give both --config and '
                         '--checkpoint, or neither')
    from mmseg_face.apis import Face, paste_face_probs, render_overlay
    from mmseg_face.apis.face_alignment import crop_label_probs, face_warp
    from mmseg_face.datasets import CelebAMaskHQDataset
    from mmseg_face.datasets.sample_faces import compose_wild_scene

    scene = compose_wild_scene(CANVAS, PLACEMENTS, seed=args.seed)
    img = scene['image']
    faces = [Face(box=box, landmarks=points)
             for box, points in zip(scene['boxes'], scene['landmarks'])]
    if args.config:
        from mmseg_face.apis import FaceParser
        parser = FaceParser(args.config, args.checkpoint,
                            alignment=args.alignment)
        labels, _ = parser.parse_wild(img, faces=faces)
        palette, crop_size = parser.palette, parser.crop_size
    else:
        palette, crop_size = CelebAMaskHQDataset.PALETTE, 256
    warps = [face_warp(face, args.alignment, crop_size) for face in faces]
    if not args.config:
        results = [(crop_label_probs(scene['labels'], warp, len(palette)),
                    warp) for warp in warps]
        labels = paste_face_probs(img.shape, results).argmax(0)
    gap = np.full((img.shape[0], 8, 3), 255, np.uint8)
    panels = np.hstack([
        img, gap,
        render_overlay(img, labels.astype(np.uint8), palette, 0.6)
    ])
    layer = np.zeros(panels.shape[:2], np.uint8)
    layer[:, :img.shape[1]] = annotation_layer(img.shape, faces, warps)
    save_palette_png(args.out, panels, layer)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
