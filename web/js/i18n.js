// Languages of the app: Russian by default, English on request (kept in localStorage).
//
// Each page module brings its own texts:
//
//   addMessages({
//     ru: { 'readings.title': 'Показания', 'readings.saved': 'Принято: {value} кВт·ч' },
//     en: { 'readings.title': 'Readings', 'readings.saved': 'Accepted: {value} kWh' },
//   });
//   t('readings.saved', { value: 42 });
//
// Keys are namespaced by page ('login.', 'register.', ...); 'common.' is app.js's. A key
// missing in English falls back to Russian, a key missing in both shows itself, so a
// forgotten text is visible on screen rather than an empty label.

export const LANGUAGES = ['ru', 'en'];
const STORAGE_KEY = 'kabinet.language';
const messages = { ru: {}, en: {} };
const listeners = new Set();

function stored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(value) ? value : 'ru';
  } catch {
    return 'ru';
  }
}

let current = stored();
document.documentElement.lang = current;

export function addMessages(dictionaries) {
  for (const language of LANGUAGES) Object.assign(messages[language], dictionaries[language] || {});
}

export function has(key) {
  return key in messages[current] || key in messages.ru;
}

export function t(key, params = {}) {
  const text = messages[current][key] ?? messages.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function language() {
  return current;
}

export function setLanguage(value) {
  if (!LANGUAGES.includes(value) || value === current) return;
  current = value;
  document.documentElement.lang = value;
  try {
    localStorage.setItem(STORAGE_KEY, value);
  } catch {
    // private mode: the choice lasts until the page is closed
  }
  for (const listener of listeners) listener(value);
}

// `fn(language)` after every switch; returns a function that unsubscribes.
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const locale = () => (current === 'ru' ? 'ru-RU' : 'en-GB');

// "1234.56" (the API's Money) -> "1 234,56 ₽" / "RUB 1,234.56"
export function formatMoney(amount) {
  if (amount === null || amount === undefined || amount === '') return '';
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'RUB' }).format(Number(amount));
}

// "2026-07-20" (Date) or an ISO date-time -> "20 июля 2026 г." / "20 July 2026"
export function formatDate(value) {
  if (!value) return '';
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long' }).format(date);
}

export function formatDateTime(value) {
  if (!value) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(value),
  );
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(Number(value));
}
