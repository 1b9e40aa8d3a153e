// `/sessions`: the devices where the cabinet is logged in; ending one, ending every other
// one, or ending all of them with this one.
//
// "Log out other devices" is logoutOtherDevices (this session stays); "log out
// everywhere" is logoutEverywhere, this session included, followed by the login page.

import { describeError, graphql, mutate } from '../api.js';
import { button, h, notice, page } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDateTime, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { forgetViewer, viewer } from '../session.js';
import { setUnread } from './account-common.js';
import { deletionBanner, privacyCards } from './privacy.js';

addMessages({
  ru: {
    'sessions.title': 'Сеансы на устройствах',
    'sessions.intro':
      'Здесь видно, где открыт ваш личный кабинет. Если вы не узнаёте устройство, завершите его сеанс и смените пароль.',
    'sessions.current': 'Это устройство',
    'sessions.device': 'Устройство',
    'sessions.ip': 'IP-адрес: {ip}',
    'sessions.since': 'Вход: {date}',
    'sessions.lastUsed': 'Последний раз: {date}',
    'sessions.expires': 'Сеанс закончится, если не пользоваться до {date}',
    'sessions.revoke': 'Завершить сеанс',
    'sessions.revokeLabel': 'Завершить сеанс: {device}, вход {date}',
    'sessions.revoked': 'Сеанс на устройстве «{device}» завершён.',
    'sessions.others': 'Выйти на всех других устройствах',
    'sessions.othersDone': 'Сеансы на других устройствах завершены: {count}.',
    'sessions.noOthers': 'Других открытых сеансов нет.',
    'sessions.everywhere': 'Выйти везде, включая это устройство',
    'sessions.NOT_FOUND': 'Этот сеанс уже завершён.',
  },
  en: {
    'sessions.title': 'Sessions on devices',
    'sessions.intro':
      'This is where your cabinet is open. If you do not recognise a device, end its session and change your password.',
    'sessions.current': 'This device',
    'sessions.device': 'Device',
    'sessions.ip': 'IP address: {ip}',
    'sessions.since': 'Logged in: {date}',
    'sessions.lastUsed': 'Last used: {date}',
    'sessions.expires': 'Ends if unused until {date}',
    'sessions.revoke': 'End the session',
    'sessions.revokeLabel': 'End the session: {device}, logged in {date}',
    'sessions.revoked': 'The session on “{device}” has ended.',
    'sessions.others': 'Log out on every other device',
    'sessions.othersDone': 'Sessions on other devices ended: {count}.',
    'sessions.noOthers': 'No other sessions are open.',
    'sessions.everywhere': 'Log out everywhere, this device too',
    'sessions.NOT_FOUND': 'This session has ended already.',
  },
});

const SESSIONS = gql`query Sessions {
  me { unreadAnswers sessions { id createdAt lastUsedAt expiresAt ip device current } }
}`;

const REVOKE = gql`mutation RevokeSession($input: RevokeSessionInput!) {
  revokeSession(input: $input) { endedSessions userErrors { code } }
}`;

const EVERYWHERE = gql`mutation LogoutEverywhere { logoutEverywhere { endedSessions userErrors { code } } }`;

const OTHERS = gql`mutation LogoutOtherDevices { logoutOtherDevices { endedSessions userErrors { code } } }`;

let flash = null;

async function redraw(text) {
  flash = text;
  await navigate('/sessions', { replace: true });
}

// Run `action` from a button, with the button disabled meanwhile and failures said.
function act(label, attrs, status, action) {
  const node = button(label, {
    ...attrs,
    onclick: async () => {
      node.disabled = true;
      try {
        await action();
      } catch (error) {
        status.textContent = describeError(error);
      } finally {
        node.disabled = false;
      }
    },
  });
  return node;
}

function sessionItem(session, status) {
  const device = session.device || t('sessions.device');
  return h(
    'li',
    { class: 'session' },
    h('p', { class: 'meter-name' }, device, session.current ? [' ', h('span', { class: 'status-badge' }, t('sessions.current'))] : null),
    h('p', { class: 'hint' }, t('sessions.ip', { ip: session.ip })),
    h('p', { class: 'hint' }, t('sessions.since', { date: formatDateTime(session.createdAt) })),
    h('p', { class: 'hint' }, t('sessions.lastUsed', { date: formatDateTime(session.lastUsedAt) })),
    session.current
      ? null
      : act(
          t('sessions.revoke'),
          { 'aria-label': t('sessions.revokeLabel', { device, date: formatDateTime(session.createdAt) }) },
          status,
          async () => {
            const payload = await mutate('revokeSession', REVOKE, { id: session.id });
            await redraw(payload.userErrors.length ? t('sessions.NOT_FOUND') : t('sessions.revoked', { device }));
          },
        ),
  );
}

async function render() {
  const { me } = await graphql(SESSIONS);
  setUnread(me.unreadAnswers);
  const shown = flash;
  flash = null;
  const status = h('p', { role: 'status' });
  const others = me.sessions.filter((s) => !s.current);
  return page(
    t('sessions.title'),
    await deletionBanner(),
    shown ? notice(shown, 'ok') : null,
    h('p', {}, t('sessions.intro')),
    h(
      'div',
      { class: 'actions' },
      others.length
        ? act(t('sessions.others'), { class: 'primary' }, status, async () => {
            const payload = await mutate('logoutOtherDevices', OTHERS);
            await redraw(t('sessions.othersDone', { count: payload.endedSessions }));
          })
        : h('p', {}, t('sessions.noOthers')),
      act(t('sessions.everywhere'), {}, status, async () => {
        await mutate('logoutEverywhere', EVERYWHERE);
        forgetViewer();
        await navigate('/login', { replace: true });
      }),
    ),
    status,
    h('ul', { class: 'items sessions' }, me.sessions.map((s) => sessionItem(s, status))),
    (await viewer())?.role === 'CUSTOMER' ? privacyCards() : null, // a specialist leaves by `kabinet staff remove`
  );
}

route('/sessions', render, {
  auth: true,
  roles: ['CUSTOMER', 'STAFF'],
  title: 'sessions.title',
  nav: { label: 'nav.sessions', order: 60 },
});
