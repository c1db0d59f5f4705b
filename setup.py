from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


setup(
    name='mmseg-face',
    version='0.1.0',
    description='Face parsing models, datasets and metrics as an MMSegmentation 0.30 plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmseg_face', 'mmseg_face.*']),
    python_requires='>=3.9',
    # Loose bounds on purpose: `pip install -e .` must accept the pinned,
    # source-built stack from requirements.txt and never rebuild or replace it.
    install_requires=[
        'torch>=2.0',
        'mmcv-full>=1.7.0,<1.8.0',
        'mmsegmentation==0.30.0',
        'mmcls==0.25.0',
        'torchprofile>=0.0.4',
        'numpy<2',
        'opencv-python',
    ],
    license='Apache License 2.0',
    zip_safe=False,
)
