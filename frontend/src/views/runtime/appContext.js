// The generated app's definition, loaded once by AppLayout and shared with its pages.
import { computed, inject, provide, reactive } from 'vue'

const KEY = Symbol('runtime-app')

export function provideRuntimeApp() {
  const state = reactive({ key: null, definition: null, error: null, loading: false })
  provide(KEY, state)
  return state
}

export function useRuntimeApp() {
  const state = inject(KEY)
  const entityOf = (key) => state.definition?.entities?.find((e) => e.key === key) || null
  return { state, entityOf, entities: computed(() => state.definition?.entities || []) }
}
