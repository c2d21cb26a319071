// Narrow screens (phones, 375 px and up): one column, larger touch targets.
import { onScopeDispose, ref } from 'vue'

const QUERY = '(max-width: 768px)'
const narrow = ref(typeof window !== 'undefined' && window.matchMedia(QUERY).matches)
let listening = false

export function useNarrow() {
  if (!listening && typeof window !== 'undefined') {
    listening = true
    window.matchMedia(QUERY).addEventListener('change', (event) => {
      narrow.value = event.matches
    })
  }
  onScopeDispose(() => {})
  return narrow
}
