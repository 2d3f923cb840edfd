from . import apicenter_setup_wizard
