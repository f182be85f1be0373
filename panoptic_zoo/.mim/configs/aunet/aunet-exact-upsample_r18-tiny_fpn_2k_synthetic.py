# AUNet ablation on the built-in dataset: the full model with the
# exact-adjoint RoIUpsample (normalize=False) instead of the paper's eq. 5-6.
# Everything else is aunet_r18-tiny_fpn_2k_synthetic.py (the full model:
# PAM and MAM, both with reweight, normalised RoIUpsample).
_base_ = './aunet_r18-tiny_fpn_2k_synthetic.py'

pam, mam = _base_.pam, _base_.mam
model = dict(attention=[pam, dict(mam, normalize=False)])
