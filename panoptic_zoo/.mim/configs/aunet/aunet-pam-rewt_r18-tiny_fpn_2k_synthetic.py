# AUNet ablation on the built-in dataset: PAM with background reweight.
# Everything else is aunet_r18-tiny_fpn_2k_synthetic.py (the full model:
# PAM and MAM, both with reweight, normalised RoIUpsample).
_base_ = './aunet_r18-tiny_fpn_2k_synthetic.py'

pam, mam = _base_.pam, _base_.mam
model = dict(attention=[pam])
