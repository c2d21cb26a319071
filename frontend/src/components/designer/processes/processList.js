// What every process editor shares: the list it edits in the definition, the item being
// edited, adding and removing; and titles made in both languages.
import { computed, ref } from 'vue'

export function useProcessList(props, name) {
  const items = computed(() => (props.definition[name] ||= []))
  const index = ref(items.value.length ? 0 : -1)
  const current = computed(() => items.value[index.value] || null)
  function append(item) {
    items.value.push(item)
    index.value = items.value.length - 1
  }
  function remove(i) {
    items.value.splice(i, 1)
    index.value = Math.min(index.value, items.value.length - 1)
  }
  return { items, index, current, append, remove }
}

/** {zh, en} of one message, for the titles of new items. */
export function inBothLanguages(t, key, params = {}) {
  return { zh: t(key, params, { locale: 'zh-CN' }), en: t(key, params, { locale: 'en' }) }
}
