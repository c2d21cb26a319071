// The template market and moving configuration between tenants (tenant admins). Every
// operation takes `dry_run` (the report, nothing kept) and `background` (202 with a job
// to follow at GET /api/jobs/<id>, whose result is the report).
import { get, post, request } from './client.js'

const enc = encodeURIComponent

export const market = {
  list: () => get('/market'),
  install: (key, options) => post(`/market/${enc(key)}/install`, options),
  upgrade: (key, options) => post(`/market/${enc(key)}/upgrade`, options),
  uninstall: (key, options) => post(`/market/${enc(key)}/uninstall`, options),
  exportUrl: ({ withData = false, apps } = {}) => `/api/admin/export?with_data=${withData}${apps ? `&apps=${enc(apps)}` : ''}`,
  importFile: (file, { dry_run = false, with_data = true, background = false } = {}) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', '/admin/import', { form, query: { dry_run, with_data, background } })
  },
  clone: (options) => post('/admin/clone', options),
}

export const jobs = {
  get: (id) => get(`/jobs/${enc(id)}`),
}
