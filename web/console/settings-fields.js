// Form controls for a site's settings object (`site.settings`, docs/API.md), shared by the Site
// and Assistant settings pages so both render, read and label settings the same way.
//
// Controls are typed by the value the server returns (switch, number, text, list), so a setting
// added on the server appears without a console change; known keys get translated labels and
// hints. Each page shows a subset of the keys, but the PATCH always sends the whole object
// back (the API replaces settings as a whole), so the other page's settings are kept.

import { h, field, uid } from './dom.js';

/** The settings the Assistant page groups; the Site page shows every other key. */
export const ASSISTANT_KEYS = [
  // Switches first: they line up as one row of the grid.
  'bot_enabled',
  'escalate_on_negative_sentiment',
  'redact_provider_input',
  'system_prompt',
  'forbidden_topics',
  'context_budget_tokens',
  'answer_threshold',
  'clarify_threshold',
];

/** Settings that read better as several lines. */
const LONG_TEXT = new Set(['welcome_message', 'offline_message', 'system_prompt', 'consent_notice']);
/** Settings that are fractions 0–1. */
const FRACTIONS = new Set(['answer_threshold', 'clarify_threshold']);

/** A label for a settings key: the translation when there is one, else the key in words. */
export function settingLabel(t, key) {
  const k = `setting.${key}`;
  const tr = t(k);
  return tr === k ? key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) : tr;
}

/**
 * Controls for `keys` of `settings` (in that order; keys the object lacks are skipped).
 * Returns `{fields, read}`: the field elements, and `read()` giving `{key: value}` for the
 * shown keys as the controls hold them now. `disabled` makes them read-only (non-admins).
 */
export function settingsFields(t, settings, keys, { disabled = false } = {}) {
  const controls = new Map();
  const fields = keys.filter((key) => key in settings).map((key) => {
    const value = settings[key];
    let input;
    const hintKey = `settingHint.${key}`;
    const hint = t(hintKey) === hintKey ? null : t(hintKey);
    if (typeof value === 'boolean') {
      input = h('input', { type: 'checkbox', id: uid('s'), checked: value, name: key });
      controls.set(key, () => input.checked);
      const hintEl = hint ? h('small', { class: 'hint', id: uid('hint') }, hint) : null;
      if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
      input.disabled = disabled;
      return h('div', { class: 'field check' }, input, h('label', { for: input.id }, settingLabel(t, key)), hintEl);
    }
    if (typeof value === 'number') {
      const fraction = FRACTIONS.has(key);
      input = h('input', { type: 'number', value: String(value), step: fraction ? '0.01' : '1', min: '0', max: fraction ? '1' : null });
      controls.set(key, () => Number(input.value));
    } else if (Array.isArray(value)) {
      input = h('textarea', { rows: '3' });
      input.value = value.join('\n');
      controls.set(key, () => input.value.split('\n').map((x) => x.trim()).filter(Boolean));
      input.name = key;
      input.disabled = disabled;
      return field(settingLabel(t, key), input, hint || t('onePerLine')).wrap;
    } else if (typeof value === 'string') {
      if (key === 'widget_color') input = h('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(value) ? value : '#2563eb' });
      else if (key === 'widget_position') input = h('select', {}, ['right', 'left'].map((p) => h('option', { value: p, selected: p === value }, t(`position.${p}`))));
      else if (LONG_TEXT.has(key)) {
        input = h('textarea', { rows: key === 'system_prompt' ? '6' : '2' });
        input.value = value;
      } else input = h('input', { type: 'text', value });
      controls.set(key, () => input.value);
    } else {
      // An object or null: shown as JSON, read-only, so nothing is lost when saving.
      input = h('textarea', { rows: '3', readonly: true });
      input.value = JSON.stringify(value, null, 2);
      controls.set(key, () => value);
    }
    input.name = key;
    input.disabled = disabled;
    return field(settingLabel(t, key), input, hint).wrap;
  });
  return {
    fields,
    read() {
      const out = {};
      for (const [k, get] of controls) out[k] = get();
      return out;
    },
  };
}
