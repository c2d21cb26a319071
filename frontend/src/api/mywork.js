// What waits for me: the SLA deadlines of my records, and one record's SLA clocks.
import { get } from './client.js'

const enc = encodeURIComponent

export const mywork = {
  sla: () => get('/my/sla'),
  recordSla: (app, entity, id) => get(`/apps/${enc(app)}/${enc(entity)}/records/${id}/sla`),
}
