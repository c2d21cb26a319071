// Dashboards: every widget's figures, one widget, and the records behind any figure.
import { get } from './client.js'

const enc = encodeURIComponent
const base = (app) => `/apps/${enc(app)}/dashboards`

export const dashboards = {
  list: (app) => get(base(app)),
  get: (app, key, at) => get(`${base(app)}/${enc(key)}`, { at }),
  widget: (app, key, widget, at) => get(`${base(app)}/${enc(key)}/widgets/${enc(widget)}`, { at }),
  /** The records behind the figure whose `point` the widget data gave: {entity, items, total, next_cursor}. */
  drill: (app, key, widget, point, { limit = 50, cursor, at } = {}) =>
    get(`${base(app)}/${enc(key)}/widgets/${enc(widget)}/records`, { point: JSON.stringify(point), limit, cursor, at }),
  exportUrl: (app, key, widget) => `/api${base(app)}/${enc(key)}/widgets/${enc(widget)}/export`,
}
