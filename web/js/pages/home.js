// `/`: the start page. Logged in: the dashboard for a customer, the console for a
// specialist; otherwise the login page (the router's `auth: true` sends a visitor there).

import { navigate, route } from '../router.js';
import { viewer } from '../session.js';

route(
  '/',
  async () => {
    const user = await viewer();
    return navigate(user && user.role === 'STAFF' ? '/console' : '/dashboard', { replace: true });
  },
  { auth: true, roles: ['CUSTOMER', 'STAFF'] },
);
