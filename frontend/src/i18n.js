// Interface language: zh-CN by default, English on request; remembered in the browser.
// All strings live in locales/<language>.json; titles of the user's own apps come from
// their definitions' language maps (see `localize`).
import { computed } from 'vue'
import { createI18n } from 'vue-i18n'
import zhCnElement from 'element-plus/es/locale/lang/zh-cn'
import enElement from 'element-plus/es/locale/lang/en'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'
import { setApiLanguage } from './api/client.js'

export const LANGUAGES = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
]
const STORAGE_KEY = 'builder.language'

function initialLanguage() {
  const query = new URLSearchParams(window.location.search).get('lang')
  const stored = window.localStorage.getItem(STORAGE_KEY)
  const wanted = query || stored || 'zh-CN'
  return wanted.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLanguage(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
  missingWarn: false,
  fallbackWarn: false,
  // a key missing from a catalogue is kept where the browser tests can see it
  missing: (locale, key) => {
    window.__missingMessages = [...(window.__missingMessages || []), `${locale}:${key}`]
    return key
  },
})

export const language = computed(() => i18n.global.locale.value)
export const elementLocale = computed(() => (language.value === 'en' ? enElement : zhCnElement))

export function setLanguage(code) {
  i18n.global.locale.value = code
  window.localStorage.setItem(STORAGE_KEY, code)
  document.documentElement.lang = code
  setApiLanguage(code)
}

setApiLanguage(i18n.global.locale.value)
document.documentElement.lang = i18n.global.locale.value

/** The right language of a {"zh-CN": ..., "en": ...} map, falling back to the other. */
export function localize(map, lang = language.value) {
  if (map === null || map === undefined) return ''
  if (typeof map === 'string') return map
  return map[lang] || map['zh-CN'] || map.en || Object.values(map)[0] || ''
}
