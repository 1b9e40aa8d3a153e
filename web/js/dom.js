// Building the page: elements from code (never HTML strings, so nothing the server or a
// user typed can become markup), and forms whose every control has a label, a hint and
// an error slot tied to it for screen readers.
//
//   h('p', { class: 'hint' }, 'text', h('strong', {}, 'bold'))
//   form({ label: t('login.title'), submit: t('login.submit'), fields: [
//     field({ name: 'email', label: t('login.email'), type: 'email', autocomplete: 'username' }),
//   ], onSubmit: async (values, f) => { ... } })
//
// onSubmit gets the form's values as an object and the form; it shows problems with
// showErrors(f, payload.userErrors, codeText) or formError(f, text). A thrown ApiError
// (network, server) is shown in the form's alert by `form` itself.

import { ApiError, describeError } from './api.js';

let serial = 0;

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      node.className = value;
    } else if (name === 'value') {
      node.value = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replace a node's content (null, false and nested arrays allowed, as in h).
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function uid(prefix = 'f') {
  serial += 1;
  return `${prefix}-${serial}`;
}

// A labelled control with its hint and error slot. `type: 'textarea'` and
// `type: 'select'` (with options: [{value, label}]) are also understood.
export function field({
  name,
  label,
  type = 'text',
  hint = null,
  required = true,
  options = [],
  ...attrs
}) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const common = {
    id,
    name,
    required,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  };
  let control;
  if (type === 'textarea') control = h('textarea', common);
  else if (type === 'select')
    control = h('select', common, options.map((o) => h('option', { value: o.value }, o.label)));
  else control = h('input', { type, ...common });
  return h(
    'div',
    { class: 'field', 'data-field': name },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'error', id: errorId, hidden: true }),
  );
}

export function button(label, attrs = {}) {
  return h('button', { type: 'button', ...attrs }, label);
}

// A status line (role=status: announced politely) or an alert (role=alert).
export function notice(text, kind = 'info') {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { class: `notice notice-${kind}`, role }, text);
}

export function form({ label, submit, fields = [], onSubmit, extra = null, attrs = {} }) {
  const submitButton = h('button', { type: 'submit', class: 'primary' }, submit);
  const node = h(
    'form',
    { 'aria-label': label, novalidate: true, ...attrs },
    h('div', { class: 'form-alert', role: 'alert', tabindex: '-1', hidden: true }),
    fields,
    h('div', { class: 'actions' }, submitButton, extra),
  );
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submitButton.disabled) return;
    clearErrors(node);
    submitButton.disabled = true;
    node.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(formValues(node), node);
    } catch (error) {
      if (!(error instanceof ApiError)) console.error(error);
      formError(node, describeError(error));
    } finally {
      submitButton.disabled = false;
      node.removeAttribute('aria-busy');
    }
  });
  return node;
}

export function formValues(node) {
  return Object.fromEntries(new FormData(node));
}

export function clearErrors(node) {
  const alert = node.querySelector('.form-alert');
  if (alert) {
    alert.hidden = true;
    alert.textContent = '';
  }
  for (const slot of node.querySelectorAll('.field .error')) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const control of node.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

export function formError(node, text) {
  const alert = node.querySelector('.form-alert');
  alert.textContent = text;
  alert.hidden = false;
  alert.focus?.();
}

// Show each userError next to the control its `field` path names (the path into the
// mutation's input: ['paymentAmount'], ['values', '1', 'value']), or in the form's alert
// when no control matches. `textOf(error)` gives the sentence to show.
export function showErrors(node, userErrors, textOf) {
  let first = null;
  for (const error of userErrors) {
    const path = error.field || [];
    const candidates = [path.join('.'), path[path.length - 1], path[0]].filter(Boolean);
    const wrapper = candidates
      .map((name) => node.querySelector(`.field[data-field="${CSS.escape(name)}"]`))
      .find(Boolean);
    if (!wrapper) {
      const alert = node.querySelector('.form-alert');
      alert.textContent = [alert.textContent, textOf(error)].filter(Boolean).join(' ');
      alert.hidden = false;
      first = first || alert;
      continue;
    }
    const control = wrapper.querySelector('input, select, textarea');
    const slot = wrapper.querySelector('.error');
    control.setAttribute('aria-invalid', 'true');
    slot.textContent = [slot.textContent, textOf(error)].filter(Boolean).join(' ');
    slot.hidden = false;
    first = first || control;
  }
  if (first && first.focus) first.focus();
}

// The page's main heading; the router moves focus to it after each navigation.
export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: '-1' }, text);
}

export function page(title, ...children) {
  return h('section', { class: 'page' }, heading(title), children);
}
