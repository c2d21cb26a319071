// Names of people a page mentions (user fields, owners): fetched in one request for all
// the ids shown (GET /api/auth/people?ids=), remembered for the session.
import { reactive } from 'vue'
import { auth } from './api/index.js'

const names = reactive({})
const wanted = new Set()
let scheduled = false

async function flush() {
  scheduled = false
  const ids = [...wanted]
  wanted.clear()
  for (let start = 0; start < ids.length; start += 100) {
    try {
      for (const person of await auth.people({ ids: ids.slice(start, start + 100).join(',') })) names[person.id] = person.name
    } catch {
      // names stay as #id
    }
  }
}

/** Remember names already known (from a search, the session). */
export function rememberPeople(people) {
  for (const person of people || []) if (person?.id) names[person.id] = person.name || person.username
}

/** The name of user `id`, or `#id` until it is known. */
export function personName(id) {
  if (!Number.isInteger(id)) return id === null || id === undefined ? '' : String(id)
  if (names[id] === undefined) {
    names[id] = `#${id}`
    wanted.add(id)
    if (!scheduled) {
      scheduled = true
      setTimeout(flush, 0)
    }
  }
  return names[id]
}
