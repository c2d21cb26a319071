// Approval chains: submit a record, its runs, my inbox, act on a task, withdraw.
import { get, post } from './client.js'

const enc = encodeURIComponent
const recordPath = (app, entity, id) => `/apps/${enc(app)}/${enc(entity)}/records/${id}`

export const approvals = {
  submit: (app, entity, id, chain, comment) => post(`${recordPath(app, entity, id)}/approvals`, { chain, comment: comment || undefined }),
  ofRecord: (app, entity, id) => get(`${recordPath(app, entity, id)}/approvals`),
  inbox: () => get('/approvals/inbox'),
  /** action: approve | reject | return (toStep) | delegate (toUser) */
  act: (taskId, action, { comment, toStep, toUser } = {}) =>
    post(`/approvals/tasks/${taskId}`, { action, comment: comment || undefined, to_step: toStep || undefined, to_user: toUser || undefined }),
  get: (id) => get(`/approvals/${id}`),
  withdraw: (id, comment) => post(`/approvals/${id}/withdraw`, { comment: comment || undefined }),
}
