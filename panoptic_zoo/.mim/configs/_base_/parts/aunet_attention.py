# AUNet's FG->BG attention (Li et al., CVPR 2019) on the four levels the
# semantic head reads, both with background reweight: the Proposal
# Attention Module (eq. 1-4) and the Mask Attention Module with the paper's
# normalised RoIUpsample (eq. 5-6; normalize=False is the exact adjoint of
# RoIAlign, an ablation). Widths and strides flow from the neck and the
# RPN; a config adds its norm_cfg:
#   attention=[dict(**_base_.pam, norm_cfg=...), dict(**_base_.mam, ...)]
pam = dict(type='PAM', num_levels=4, reweight=True)
mam = dict(type='MAM', num_levels=4, normalize=True, reweight=True)
