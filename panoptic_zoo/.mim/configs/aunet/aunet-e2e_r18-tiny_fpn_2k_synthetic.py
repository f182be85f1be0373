# AUNet ablation on the built-in dataset: the joint model without
# attention (Table 1 "e2e").
# Everything else is aunet_r18-tiny_fpn_2k_synthetic.py (the full model:
# PAM and MAM, both with reweight, normalised RoIUpsample).
_base_ = './aunet_r18-tiny_fpn_2k_synthetic.py'

model = dict(attention=[])
