from .face_metrics import (areas_from_confusion, confusion_matrix,
                           f1_per_class, face_f1_metrics, merged_f1)

__all__ = [
    'areas_from_confusion', 'confusion_matrix', 'f1_per_class',
    'face_f1_metrics', 'merged_f1'
]
