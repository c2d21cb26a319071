// What waits for me, shown in the header: unread notifications and pending approval tasks.
// Refreshed on every page change and once a minute while the page is open.
import { reactive } from 'vue'
import { notifications } from './api/notifications.js'
import { approvals } from './api/approvals.js'

export const notices = reactive({ unread: 0, tasks: 0 })

export async function refreshNotices() {
  const [count, inbox] = await Promise.allSettled([notifications.unreadCount(), approvals.inbox()])
  if (count.status === 'fulfilled') notices.unread = count.value.unread
  if (inbox.status === 'fulfilled') notices.tasks = inbox.value.items.length
}
