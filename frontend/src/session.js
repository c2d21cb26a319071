// Who is logged in (GET /api/auth/me), shared by every page.
import { reactive } from 'vue'
import { auth } from './api/index.js'

export const session = reactive({ user: null, checked: false })

export async function loadSession() {
  try {
    session.user = await auth.me()
  } catch {
    session.user = null
  }
  session.checked = true
  return session.user
}

export async function login(tenant, username, password) {
  const result = await auth.login(tenant, username, password)
  session.user = result.user
  session.checked = true
  window.localStorage.setItem('builder.tenant', tenant)
  return result.user
}

export async function logout() {
  try {
    await auth.logout()
  } finally {
    session.user = null
  }
}

export function lastTenant() {
  return window.localStorage.getItem('builder.tenant') || ''
}
