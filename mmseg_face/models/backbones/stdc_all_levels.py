"""mmseg's STDCNet returning every stage, the 1/2 and 1/4 ones included."""
from mmseg.models.backbones.stdc import STDCNet
from mmseg.models.builder import BACKBONES


@BACKBONES.register_module()
class STDCNetAllLevels(STDCNet):
    """``STDCNet`` whose output keeps the two shallow stages.

    mmseg's ``STDCNet.forward`` drops the 1/2 and 1/4 maps because
    STDC-Seg does not use them, but SFNet-Lite aligns its 1/32 context onto
    the 1/4 map. Outputs: strides 2, 4, 8, 16, 32 (channels ``channels``).
    """

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        if self.with_final_conv:
            outs[-1] = self.final_conv(outs[-1])
        return tuple(outs)
