// The customer's personal data, on the sessions page and the dashboard: "Delete my
// cabinet" (deleteCabinet, confirmed by the password; every session ends, this one too,
// and the cabinet goes after the grace period), the banner of a pending deletion with
// "Keep my cabinet" (cancelCabinetDeletion: logging in alone keeps nothing), and
// "Send me my data" (requestDataExport: a link arrives by mail).

import { codeText, mutate, graphql } from '../api.js';
import { button, field, form, h, notice, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, t } from '../i18n.js';
import { navigate } from '../router.js';
import { forgetViewer } from '../session.js';

addMessages({
  ru: {
    'privacy.deleteTitle': 'Удалить личный кабинет',
    'privacy.deleteIntro':
      'Все входы в кабинет завершатся сразу, а по истечении срока на раздумье мы удалим кабинет: адрес, сеансы, подписки на электронную квитанцию, обращения и фотографии. Показания и платежи останутся у лицевого счёта. Пока срок не истёк, удаление можно отменить: войдите и нажмите «Сохранить кабинет».',
    'privacy.password': 'Пароль кабинета',
    'privacy.delete': 'Удалить кабинет',
    'privacy.pending': 'Ваш кабинет будет удалён {date}.',
    'privacy.keep': 'Сохранить кабинет',
    'privacy.kept': 'Удаление отменено: кабинет остаётся.',
    'privacy.exportTitle': 'Мои данные',
    'privacy.exportIntro': 'Мы подготовим архив со всеми данными кабинета и пришлём ссылку на почту. Раз в сутки.',
    'privacy.export': 'Прислать мои данные',
    'privacy.exportSent': 'Готовим архив: ссылка придёт на почту.',
    'deleteCabinet.WRONG_PASSWORD': 'Пароль указан неверно.',
    'requestDataExport.TOO_MANY_EXPORTS': 'Архив можно запросить раз в сутки. Повторите {retryAfter}.',
  },
  en: {
    'privacy.deleteTitle': 'Delete my cabinet',
    'privacy.deleteIntro':
      'Every login of the cabinet ends at once, and when the time to think it over ends we delete the cabinet: the address, sessions, e-receipt subscriptions, questions and photos. Readings and payments stay with the account. Until then you can cancel: log in and choose “Keep my cabinet”.',
    'privacy.password': 'Password of the cabinet',
    'privacy.delete': 'Delete the cabinet',
    'privacy.pending': 'Your cabinet will be deleted on {date}.',
    'privacy.keep': 'Keep my cabinet',
    'privacy.kept': 'The deletion is cancelled: the cabinet stays.',
    'privacy.exportTitle': 'My data',
    'privacy.exportIntro': 'We prepare an archive of all the data of the cabinet and mail you a link. Once a day.',
    'privacy.export': 'Send me my data',
    'privacy.exportSent': 'The archive is being prepared: a link will arrive by mail.',
    'deleteCabinet.WRONG_PASSWORD': 'The password is wrong.',
    'requestDataExport.TOO_MANY_EXPORTS': 'An archive can be requested once a day. Try again {retryAfter}.',
  },
});

const DELETE = gql`mutation DeleteCabinet($input: DeleteCabinetInput!) {
  deleteCabinet(input: $input) { deletion { erasesAt } userErrors { field message code retryAfter } }
}`;

const PENDING = gql`query PendingDeletion { me { deletion { erasesAt } } }`;

const CANCEL = gql`mutation CancelCabinetDeletion { cancelCabinetDeletion { canceled userErrors { code message } } }`;

const EXPORT = gql`mutation RequestDataExport { requestDataExport { export { requestedAt } userErrors { code message retryAfter } } }`;

// The banner of a pending deletion with its "Keep my cabinet" button, or null.
export async function deletionBanner() {
  const { me } = await graphql(PENDING);
  if (!me || !me.deletion) return null;
  const status = h('p', { role: 'status' });
  const keep = button(t('privacy.keep'), {
    class: 'primary',
    onclick: async () => {
      keep.disabled = true;
      const { cancelCabinetDeletion: payload } = await graphql(CANCEL);
      status.textContent = payload.userErrors.length ? payload.userErrors[0].message : t('privacy.kept');
      if (!payload.userErrors.length) banner.querySelector('.notice').remove();
    },
  });
  const banner = h(
    'section',
    { class: 'card', 'aria-label': t('privacy.keep') },
    notice(t('privacy.pending', { date: formatDate(me.deletion.erasesAt) }), 'error'),
    h('div', { class: 'actions' }, keep),
    status,
  );
  return banner;
}

// The cards of the sessions page: my data, and deleting the cabinet.
export function privacyCards() {
  const exportStatus = h('p', { role: 'status' });
  const exportButton = button(t('privacy.export'), {
    onclick: async () => {
      exportButton.disabled = true;
      try {
        const { requestDataExport: payload } = await graphql(EXPORT);
        exportStatus.textContent = payload.userErrors.length
          ? codeText('requestDataExport')(payload.userErrors[0])
          : t('privacy.exportSent');
      } finally {
        exportButton.disabled = false;
      }
    },
  });
  return [
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, t('privacy.exportTitle')),
      h('p', {}, t('privacy.exportIntro')),
      h('div', { class: 'actions' }, exportButton),
      exportStatus,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'delete-title' },
      h('h2', { id: 'delete-title' }, t('privacy.deleteTitle')),
      h('p', {}, t('privacy.deleteIntro')),
      form({
        label: t('privacy.deleteTitle'),
        submit: t('privacy.delete'),
        fields: [
          field({ name: 'password', label: t('privacy.password'), type: 'password', autocomplete: 'current-password' }),
        ],
        onSubmit: async (values, node) => {
          const payload = await mutate('deleteCabinet', DELETE, { password: values.password });
          if (payload.userErrors.length) {
            showErrors(node, payload.userErrors, codeText('deleteCabinet'));
            return;
          }
          forgetViewer(); // every session ended, this one too
          const on = payload.deletion.erasesAt;
          await navigate(`/login?ended=DELETION_REQUESTED&on=${encodeURIComponent(on)}`, { replace: true });
        },
      }),
    ),
  ];
}
