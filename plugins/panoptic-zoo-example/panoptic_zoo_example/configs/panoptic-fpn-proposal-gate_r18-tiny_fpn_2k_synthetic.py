# Panoptic FPN on panoptic_zoo's built-in dataset with this plugin's parts:
# ProposalGateAttention on the BG branch and SemanticCheckFusionHead fusion.
# The base is a zoo config, found inside the installed panoptic_zoo
# (`panoptic_zoo::` path). No custom_imports: the plugin's entry point
# registers the types.
_base_ = 'panoptic_zoo::panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'

model = dict(
    attention=[
        dict(
            type='ProposalGateAttention',
            bg_channels=64,  # the base's FPN width
            strides=(4, 8, 16, 32, 64),
            top_k=100)
    ],
    panoptic_fusion_head=dict(
        type='SemanticCheckFusionHead', min_agreement=0.3, alpha=1.0))
