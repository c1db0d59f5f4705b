from .face_encoder_decoder import FaceEncoderDecoder
from .farl_encoder_decoder import FaRLEncoderDecoder

__all__ = ['FaceEncoderDecoder', 'FaRLEncoderDecoder']
