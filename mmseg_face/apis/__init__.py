from .face_alignment import (ALIGNMENT_PRESETS, FaceWarp, align_face,
                             paste_face_argmax, paste_face_logits,
                             paste_face_probs, similarity_from_points)
from .face_detection import (LANDMARK_NAMES, Face, FaceDetector,
                             HaarCascadeFaceDetector, MTCNNFaceDetector,
                             crop_face, face_to_crop_matrix, paste_face_labels)
from .face_parser import FaceParser, ImageReadError, load_bgr_image
from .face_tracking import (FaceTracker, TrackedFrame, VideoFaceParser,
                            box_iou)
from .file_inference import (OutputWriteError, ParseInputError, ParseSummary,
                             check_boxes, load_boxes, parse_to_dir)
from .video_io import VideoReadError
from .inference_optimization import (InferenceOptimizationError,
                                     optimize_for_inference)
from .onnx_export import (OnnxExportError, OnnxMismatchError, export_onnx,
                          verify_onnx)
from .published_models import (PUBLISHED_MODELS, PublishedModel,
                               PublishedModelError, format_published_models,
                               get_published_model, resolve_published_model)
from .visualization import (class_masks, colorize_labels, render_overlay,
                            resolve_class_ids)

__all__ = [
    'ALIGNMENT_PRESETS', 'FaceWarp', 'align_face', 'paste_face_argmax',
    'paste_face_logits', 'paste_face_probs', 'similarity_from_points', 'LANDMARK_NAMES',
    'MTCNNFaceDetector', 'Face', 'FaceDetector', 'HaarCascadeFaceDetector',
    'crop_face',
    'face_to_crop_matrix', 'paste_face_labels', 'FaceParser',
    'ImageReadError', 'load_bgr_image', 'FaceTracker', 'TrackedFrame',
    'VideoFaceParser', 'box_iou', 'OutputWriteError', 'ParseInputError',
    'ParseSummary', 'VideoReadError', 'check_boxes', 'load_boxes',
    'parse_to_dir',
    'InferenceOptimizationError', 'optimize_for_inference',
    'OnnxExportError', 'OnnxMismatchError', 'export_onnx', 'verify_onnx',
    'PUBLISHED_MODELS', 'PublishedModel', 'PublishedModelError',
    'format_published_models', 'get_published_model',
    'resolve_published_model', 'class_masks', 'colorize_labels',
    'render_overlay', 'resolve_class_ids'
]
