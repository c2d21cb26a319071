// The one HTTP client of the web app. Every call goes through `request`, which sends the
// session cookie, the CSRF token of writes (from the readable cookie `builder_csrf` the
// server sets; writes without it are refused) and the interface language, and turns the
// API's error shape
// {"error": {code, message, details: [{path, message, code}]}} into an ApiError.

let currentLanguage = 'zh-CN'
const unauthorizedListeners = new Set()

export function setApiLanguage(language) {
  currentLanguage = language
}

/** Called with no arguments whenever the server answers 401 (the session ended). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {}
    super(error.message || `HTTP ${status}`)
    this.status = status
    this.code = error.code || 'error'
    this.details = Array.isArray(error.details) ? error.details : []
    this.extra = error
  }

  /**
   * Problems by field key (`name`, `data.name` give `name`); problems inside sub-table rows
   * keep their whole path (`lines[2].qty`) so the row's cell can show them.
   */
  fieldProblems() {
    const byField = {}
    for (const detail of this.details) {
      const path = String(detail.path || '').replace(/^data\./, '')
      const key = /^[a-z][a-z0-9_]*\[\d+\]/.test(path) ? path : fieldOfPath(path)
      if (!key) continue
      ;(byField[key] ||= []).push(detail.message)
    }
    return byField
  }
}

export function fieldOfPath(path) {
  if (!path || path === '$') return ''
  const match = /^([a-z][a-z0-9_]*)/.exec(path)
  return match ? match[1] : ''
}

function queryString(query) {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    params.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function csrfToken() {
  const match = /(?:^|;\s*)builder_csrf=([^;]*)/.exec(document.cookie)
  return match ? decodeURIComponent(match[1]) : ''
}

export async function request(method, path, { body, query, form } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': currentLanguage }
  if (!SAFE_METHODS.has(method)) {
    const token = csrfToken()
    if (token) headers['X-CSRF-Token'] = token
  }
  let payload
  if (form) {
    payload = form
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(`/api${path}${queryString(query)}`, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
    })
  } catch (cause) {
    const error = new ApiError(0, { error: { code: 'network', message: '' } })
    error.cause = cause
    throw error
  }
  if (response.status === 204) return null
  const text = await response.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener())
    throw new ApiError(response.status, data)
  }
  return data
}

export const get = (path, query) => request('GET', path, { query })
export const post = (path, body, query) => request('POST', path, { body, query })
export const put = (path, body) => request('PUT', path, { body })
export const patch = (path, body) => request('PATCH', path, { body })
export const del = (path, query) => request('DELETE', path, { query })
