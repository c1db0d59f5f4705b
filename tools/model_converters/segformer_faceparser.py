"""Convert the Hugging Face SegFormer face parser to mmseg_face.

Reads jonathandinu/face-parsing's ``model.safetensors`` or
``pytorch_model.bin`` (transformers' ``SegformerForSemanticSegmentation``,
MiT-B5) and writes an mmseg checkpoint predicting in the official
CelebAMask-HQ class order, for
``local_configs/segformer/segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py``.

Usage: ``python tools/model_converters/segformer_faceparser.py SRC DST``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert jonathandinu/face-parsing (Hugging Face '
        'SegFormer-B5) to an mmseg_face checkpoint')
    parser.add_argument('src', help='model.safetensors or pytorch_model.bin')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/segformer_faceparser.py'):
        from mmseg_face.utils.segformer_converter import \
            convert_segformer_faceparser_file
        print(convert_segformer_faceparser_file(args.src, args.dst))


if __name__ == '__main__':
    main()
