/** The console's language: Chinese or English, remembered in this browser. */
import en from './i18n/en.js';
import zh from './i18n/zh.js';

const tables = { en, zh };
let current =
  localStorage.getItem('stopsign-language') ??
  (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en');

export function language() {
  return current;
}

export function setLanguage(code) {
  current = tables[code] ? code : 'en';
  localStorage.setItem('stopsign-language', current);
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}

/** The string for `key`, with {name} replaced from `vars`. */
export function t(key, vars = {}) {
  const text = tables[current][key] ?? tables.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}
