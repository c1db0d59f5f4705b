import numpy as np
from mmcv.parallel import DataContainer as DC
from mmseg.datasets.builder import PIPELINES
from mmseg.datasets.pipelines.formatting import (DefaultFormatBundle,
                                                 to_tensor)


@PIPELINES.register_module()
class FaceFormatBundle(DefaultFormatBundle):
    """mmseg's ``DefaultFormatBundle`` plus the edge map.

    ``img`` and ``gt_semantic_seg`` are formatted as in mmseg; ``gt_edge``
    becomes a (1, H, W) int64 tensor in a stacked DataContainer, like the
    label.
    """

    def __call__(self, results):
        results = super().__call__(results)
        if 'gt_edge' in results:
            edge = results['gt_edge'][None, ...].astype(np.int64)
            results['gt_edge'] = DC(to_tensor(edge), stack=True)
        return results
