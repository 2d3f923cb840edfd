from . import test_configuration
from . import test_jobs
from . import test_store
from . import test_security
