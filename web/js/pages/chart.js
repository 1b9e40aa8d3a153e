// The consumption chart: a bar per month (kWh of every zone) with the same month a year
// earlier beside it, drawn as SVG by hand from Account.consumption. Screen readers get
// the chart's <title> and <desc> (the totals in words), and everyone can open the same
// numbers as a table.

import { h } from '../dom.js';
import { addMessages, formatMoney, formatNumber, language, t } from '../i18n.js';

addMessages({
  ru: {
    'chart.title': 'Расход электроэнергии по месяцам, кВт·ч',
    'chart.desc': 'За {months} мес.: {total} кВт·ч, годом раньше за те же месяцы: {before} кВт·ч. Больше всего — {max} кВт·ч в {maxMonth}.',
    'chart.now': 'Этот год',
    'chart.before': 'Годом раньше',
    'chart.table': 'Показать цифрами',
    'chart.month': 'Месяц',
    'chart.kwh': 'кВт·ч',
    'chart.kwhYearAgo': 'кВт·ч годом раньше',
    'chart.amount': 'Начислено',
    'chart.empty': 'Данных о расходе пока нет.',
    'chart.fromReadings': 'по показаниям',
  },
  en: {
    'chart.title': 'Electricity consumption per month, kWh',
    'chart.desc': 'Over {months} months: {total} kWh; a year earlier over the same months: {before} kWh. The most: {max} kWh in {maxMonth}.',
    'chart.now': 'This year',
    'chart.before': 'A year earlier',
    'chart.table': 'Show as numbers',
    'chart.month': 'Month',
    'chart.kwh': 'kWh',
    'chart.kwhYearAgo': 'kWh a year earlier',
    'chart.amount': 'Charged',
    'chart.empty': 'No consumption data yet.',
    'chart.fromReadings': 'from readings',
  },
});

const SVG = 'http://www.w3.org/2000/svg';
const BAR = 14; // width of one bar
const SLOT = 40; // width of a month: two bars and the gap
const HEIGHT = 160; // height of the bars' area
const TOP = 16;
const LEFT = 44;
const BOTTOM = 24;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const locale = () => (language() === 'ru' ? 'ru-RU' : 'en-GB');

// "2026-10" -> "окт." / "Oct" (short) or "октябрь 2026 г." / "October 2026" (long).
export function monthName(period, style = 'long') {
  const [year, month] = period.split('-').map(Number);
  const options = style === 'short' ? { month: 'short' } : { month: 'long', year: 'numeric' };
  return new Intl.DateTimeFormat(locale(), options).format(new Date(year, month - 1, 15));
}

const kwh = (value) => (value === null || value === undefined ? null : Number(value));

// A tidy top for the axis: 1, 2 or 5 times a power of ten.
function niceTop(value) {
  if (value <= 0) return 10;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= value);
}

function bars(months, top) {
  const y = (value) => TOP + HEIGHT - (value / top) * HEIGHT;
  const nodes = [];
  months.forEach((m, i) => {
    const x = LEFT + i * SLOT + (SLOT - 2 * BAR - 2) / 2;
    for (const [value, cls, dx, label] of [
      [kwh(m.kwhYearAgo), 'bar-before', 0, t('chart.before')],
      [kwh(m.kwh), 'bar-now', BAR + 2, t('chart.now')],
    ]) {
      if (value === null) continue;
      nodes.push(
        svg(
          'rect',
          { class: cls, x: x + dx, y: y(value), width: BAR, height: Math.max(0, TOP + HEIGHT - y(value)) },
          svg('title', {}, `${monthName(m.month)}, ${label}: ${formatNumber(value)} ${t('chart.kwh')}`),
        ),
      );
    }
    nodes.push(
      svg('text', { x: LEFT + i * SLOT + SLOT / 2, y: TOP + HEIGHT + 16, 'text-anchor': 'middle' }, monthName(m.month, 'short')),
    );
  });
  return nodes;
}

function axis(top, width) {
  const nodes = [];
  for (const share of [0, 0.5, 1]) {
    const y = TOP + HEIGHT - share * HEIGHT;
    nodes.push(svg('line', { class: 'axis', x1: LEFT - 4, x2: width, y1: y, y2: y }));
    nodes.push(svg('text', { x: LEFT - 6, y: y + 4, 'text-anchor': 'end' }, formatNumber(top * share)));
  }
  return nodes;
}

function description(months) {
  const sum = (key) => months.reduce((total, m) => total + (kwh(m[key]) || 0), 0);
  const max = months.reduce((best, m) => ((kwh(m.kwh) || 0) > (kwh(best.kwh) || 0) ? m : best), months[0]);
  return t('chart.desc', {
    months: months.length,
    total: formatNumber(sum('kwh')),
    before: formatNumber(sum('kwhYearAgo')),
    max: formatNumber(kwh(max.kwh) || 0),
    maxMonth: monthName(max.month),
  });
}

function table(months) {
  const cell = (value) => h('td', { class: 'number' }, value === null || value === undefined ? '—' : formatNumber(value));
  return h(
    'details',
    { class: 'chart-table' },
    h('summary', {}, t('chart.table')),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        {},
        h('caption', {}, t('chart.title')),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('chart.month'), t('chart.kwh'), t('chart.kwhYearAgo'), t('chart.amount')].map((c, i) =>
              h('th', { scope: 'col', class: i ? 'number' : null }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          months.map((m) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, monthName(m.month), m.source === 'READINGS' ? ` (${t('chart.fromReadings')})` : ''),
              cell(m.kwh),
              cell(m.kwhYearAgo),
              h('td', { class: 'number' }, m.amount ? formatMoney(m.amount) : '—'),
            ),
          ),
        ),
      ),
    ),
  );
}

// `months`: Account.consumption (month kwh kwhYearAgo amount source), oldest first.
export function consumptionChart(months) {
  if (!months.length || months.every((m) => m.kwh === null && m.kwhYearAgo === null)) {
    return h('p', { class: 'empty' }, t('chart.empty'));
  }
  const top = niceTop(Math.max(...months.flatMap((m) => [kwh(m.kwh) || 0, kwh(m.kwhYearAgo) || 0])));
  const width = LEFT + months.length * SLOT;
  const titleId = `chart-title-${months[0].month}`;
  const descId = `chart-desc-${months[0].month}`;
  const chart = svg(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${width} ${TOP + HEIGHT + BOTTOM}`,
      role: 'img',
      'aria-labelledby': `${titleId} ${descId}`,
    },
    svg('title', { id: titleId }, t('chart.title')),
    svg('desc', { id: descId }, description(months)),
    ...axis(top, width),
    ...bars(months, top),
  );
  return h(
    'figure',
    { class: 'consumption' },
    // On a phone the chart scrolls sideways: the region takes focus so a keyboard scrolls it too.
    h('div', { class: 'chart-scroll', tabindex: '0', role: 'group', 'aria-labelledby': titleId }, chart),
    h(
      'ul',
      { class: 'legend', 'aria-hidden': 'true' },
      h('li', {}, h('span', { class: 'swatch swatch-now' }), t('chart.now')),
      h('li', {}, h('span', { class: 'swatch swatch-before' }), t('chart.before')),
    ),
    table(months),
  );
}
