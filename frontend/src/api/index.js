// The API by resource. Later parts (stage flows, approvals, dashboards, market, admin) add
// their own modules beside these, all built on `request` from ./client.js.
import { del, get, patch, post, put, request } from './client.js'

const enc = encodeURIComponent

export const auth = {
  login: (tenant, username, password) => post('/auth/login', { tenant, username, password }),
  logout: () => post('/auth/logout'),
  me: () => get('/auth/me'),
  /** Active colleagues of my tenant: [{id, username, name}]; `{ids: "1,2"}` names those users. */
  people: (q) => get('/auth/people', typeof q === 'object' && q ? q : { q }),
}

export const fieldTypes = {
  list: () => get('/field-types'),
}

export const apps = {
  list: () => get('/apps'),
  get: (app) => get(`/apps/${enc(app)}`),
  create: (definition) => post('/apps', { definition }),
  draft: (app) => get(`/apps/${enc(app)}/draft`),
  saveDraft: (app, definition) => put(`/apps/${enc(app)}/draft`, { definition }),
  plan: (app) => post(`/apps/${enc(app)}/plan`),
  publish: (app) => post(`/apps/${enc(app)}/publish`),
  versions: (app) => get(`/apps/${enc(app)}/versions`),
  version: (app, number) => get(`/apps/${enc(app)}/versions/${number}`),
  rollback: (app, version) => post(`/apps/${enc(app)}/rollback`, { version }),
}

function recordsPath(app, entity) {
  return `/apps/${enc(app)}/${enc(entity)}/records`
}

export const records = {
  /** query: {filter (JsonLogic), sort ("-amount,name"), limit, cursor, fields, q, count} */
  list: (app, entity, query) => get(recordsPath(app, entity), query),
  get: (app, entity, id) => get(`${recordsPath(app, entity)}/${id}`),
  create: (app, entity, data) => post(recordsPath(app, entity), { data }),
  update: (app, entity, id, version, data) =>
    patch(`${recordsPath(app, entity)}/${id}`, { version, data }),
  remove: (app, entity, id, version) => del(`${recordsPath(app, entity)}/${id}`, { version }),
  restore: (app, entity, id) => post(`${recordsPath(app, entity)}/${id}/restore`),
  history: (app, entity, id) => get(`${recordsPath(app, entity)}/${id}/history`),
}

export const files = {
  upload: (file, { image = false } = {}) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', '/files', { form, query: image ? { image: 'true' } : undefined })
  },
  url: (id) => `/api/files/${enc(id)}`,
}

// tenant administration: ./admin.js
