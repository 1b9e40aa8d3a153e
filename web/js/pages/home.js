// `/`: the start page. Logged in: the dashboard; otherwise the login page (the router's
// `auth: true` sends a visitor there).

import { navigate, route } from '../router.js';

route('/', () => navigate('/dashboard', { replace: true }), { auth: true });
