// In-app notifications: mine (unread first), the unread count, mark read.
import { get, post } from './client.js'

export const notifications = {
  list: ({ unread, limit, cursor } = {}) => get('/notifications', { unread: unread ? 'true' : undefined, limit, cursor }),
  unreadCount: () => get('/notifications/unread-count'),
  read: (id) => post(`/notifications/${id}/read`),
  readAll: () => post('/notifications/read-all'),
}
