// Spreadsheet import runs and list-view export.
import { get, post } from './client.js'

const enc = encodeURIComponent

export const imports = {
  /** {file: id from /api/files} → the run, its columns, the suggested mapping, sample rows */
  start: (app, entity, file) => post(`/apps/${enc(app)}/${enc(entity)}/imports`, { file }),
  preview: (id, options) => post(`/imports/${id}/preview`, options),
  run: (id, options) => post(`/imports/${id}/run`, options),
  get: (id) => get(`/imports/${id}`),
}

/** The address of the .xlsx of a list as shown: its view, filter, sort, columns and search. */
export function exportUrl(app, entity, { view, filter, sort, fields, q } = {}) {
  const params = new URLSearchParams()
  if (view) params.set('view', view)
  if (filter) params.set('filter', JSON.stringify(filter))
  if (sort) params.set('sort', sort)
  if (fields?.length) params.set('fields', fields.join(','))
  if (q) params.set('q', q)
  const query = params.toString()
  return `/api/apps/${enc(app)}/${enc(entity)}/export${query ? `?${query}` : ''}`
}
