// Stage flows: move a record (the server checks every criterion), its visits, funnel figures.
import { get, post } from './client.js'

const enc = encodeURIComponent
const recordPath = (app, entity, id) => `/apps/${enc(app)}/${enc(entity)}/records/${id}`

export const stages = {
  /** 422 lists every unmet condition in `details`; 409 when the version is stale. */
  transition: (app, entity, id, { to, version, data, reason, flow }) =>
    post(`${recordPath(app, entity, id)}/transition`, { to, version, data: data || {}, reason: reason || undefined, flow }),
  visits: (app, entity, id, flow) => get(`${recordPath(app, entity, id)}/stages`, { flow }),
  funnel: (app, flow, query) => get(`/apps/${enc(app)}/stage_flows/${enc(flow)}/funnel`, query),
}
