// Public forms: the form behind a link (no login) and its submission.
import { get, post } from './client.js'

const enc = encodeURIComponent

export const publicForms = {
  get: (token) => get(`/public/forms/${enc(token)}`),
  /** 201 (or 200 with duplicate: true) → {message}; 422 per field; 429 over the rate limit */
  submit: (token, data, submitToken, honeypot = '') => post(`/public/forms/${enc(token)}`, { data, submit_token: submitToken, homepage: honeypot }),
}
