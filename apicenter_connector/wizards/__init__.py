from . import apicenter_setup_wizard
from . import apicenter_profile_transfer
