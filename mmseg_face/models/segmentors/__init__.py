from .face_encoder_decoder import FaceEncoderDecoder

__all__ = ['FaceEncoderDecoder']
