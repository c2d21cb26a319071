// Names of related records (a relation field shows 华东制造, not #12): fetched in one list
// request per entity for all the ids a page shows, and remembered for the session.
import { reactive } from 'vue'
import { records } from './api/index.js'
import { titleFieldOf } from './logic/form.js'

const definitions = {}
const titles = reactive({}) // "app/entity/id" -> text
const wanted = new Map() // "app/entity" -> Set of ids
let scheduled = false

/** Called with each app definition loaded, so that its entities' title fields are known. */
export function rememberApp(key, definition) {
  definitions[key] = definition
}

async function fetchTitles(app, entityKey, ids) {
  const entity = definitions[app]?.entities?.find((e) => e.key === entityKey)
  const field = titleFieldOf(entity)
  if (!field) return
  try {
    const page = await records.list(app, entityKey, { filter: { in: [{ var: 'id' }, ids] }, fields: field, limit: ids.length })
    for (const record of page.items) {
      const text = record[field]
      if (text !== null && text !== undefined && text !== '') titles[`${app}/${entityKey}/${record.id}`] = String(text)
    }
  } catch {
    // names stay as #id when the records cannot be read (no permission, deleted)
  }
}

function flush() {
  scheduled = false
  const batches = [...wanted.entries()]
  wanted.clear()
  for (const [key, ids] of batches) {
    const [app, entity] = key.split('/')
    const list = [...ids]
    for (let start = 0; start < list.length; start += 100) fetchTitles(app, entity, list.slice(start, start + 100))
  }
}

/** The name of record `id` of `entity`, or `#id` until (or unless) it is known. */
export function recordTitle(app, entity, id) {
  const key = `${app}/${entity}/${id}`
  if (titles[key] === undefined && app && entity && Number.isInteger(id)) {
    titles[key] = `#${id}`
    if (!wanted.has(`${app}/${entity}`)) wanted.set(`${app}/${entity}`, new Set())
    wanted.get(`${app}/${entity}`).add(id)
    if (!scheduled) {
      scheduled = true
      setTimeout(flush, 0)
    }
  }
  return titles[key] ?? `#${id}`
}
