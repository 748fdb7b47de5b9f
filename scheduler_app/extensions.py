"""Every Flask extension, instantiated once here and bound to the app in the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared on the routes that need them (login, join links); storage comes from
# RATELIMIT_STORAGE_URI (memory on a laptop, Redis when several workers share the limits).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
