// The tenant's apps (GET /api/apps), shared by the shell's navigation and the home page.
import { reactive } from 'vue'
import { apps } from './api/index.js'

export const appsStore = reactive({ items: [], loaded: false, error: null })

export async function refreshApps() {
  try {
    appsStore.items = await apps.list()
    appsStore.error = null
  } catch (error) {
    appsStore.error = error
  }
  appsStore.loaded = true
  return appsStore.items
}

export function liveApps() {
  return appsStore.items.filter((app) => app.live_version !== null && app.live_version !== undefined)
}
