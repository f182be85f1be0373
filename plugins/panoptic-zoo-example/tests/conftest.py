from panoptic_zoo.utils import register_all_modules

# At import, before pytest imports the test modules: panoptic_zoo then loads
# this package through its entry point, as it would for a user.
register_all_modules()
