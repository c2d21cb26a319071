// A record's timeline: its audit history, its stage moves and its approvals merged into one
// list, newest first. The stage field's changes are told by the stage moves, not twice.

function time(at) {
  const value = Date.parse(at || '')
  return Number.isNaN(value) ? 0 : value
}

/** Users seen in the history and approvals by id, to name whoever moved a stage. */
export function knownUsers(history = [], runs = []) {
  const users = {}
  for (const entry of history) if (entry.user?.id) users[entry.user.id] = entry.user
  for (const run of runs) {
    if (run.submitted_by?.id) users[run.submitted_by.id] = run.submitted_by
    for (const action of run.actions || []) if (action.user?.id) users[action.user.id] = action.user
  }
  return users
}

/**
 * Entries {key, kind: history|stage|approval, at, ...}: `history` items keep their
 * `action`, `user` and `changes` (stage fields left out); stage `visits` become moves with
 * `from_title`, `to_title`, `user`, `how`, `reason`, `dwell_seconds`; each approval run's
 * trail action becomes an entry with the run's chain title and the step's title; records
 * of other entities pointing at this one (`related`: [{entity, titleField, items}], the
 * follow-ups) become `related` entries when they were added.
 */
export function timeline({ history = [], visits = [], runs = [], stageFields = [], related = [] } = {}) {
  const hidden = new Set(stageFields)
  const users = knownUsers(history, runs)
  const entries = []
  for (const entry of history) {
    const changes = Object.fromEntries(Object.entries(entry.changes || {}).filter(([key]) => !hidden.has(key)))
    if (entry.action === 'update' && !Object.keys(changes).length) continue
    entries.push({ ...entry, key: `h${entry.id}`, kind: 'history', changes })
  }
  visits.forEach((visit, index) => {
    entries.push({ ...visit, key: `s${index}`, kind: 'stage', at: visit.entered_at, user: users[visit.by] || null })
  })
  for (const run of runs) {
    const steps = Object.fromEntries((run.steps || []).map((step) => [step.key, step]))
    for (const action of run.actions || []) {
      entries.push({
        ...action, key: `a${action.id}`, kind: 'approval', run: run.id, chain: run.title,
        step_title: action.step ? steps[action.step]?.title || action.step : null,
      })
    }
  }
  for (const { entity, titleField, items } of related) {
    for (const record of items || []) {
      entries.push({ key: `r${entity.key}${record.id}`, kind: 'related', at: record.created_at, entity, record, by: record.created_by, title: titleField ? record[titleField] : null })
    }
  }
  return entries.sort((a, b) => time(b.at) - time(a.at) || (b.key > a.key ? 1 : -1))
}

/** {days, hours, minutes} of a number of seconds, for "2 days 3 hours" wordings. */
export function durationParts(seconds) {
  const total = Math.max(0, Math.floor((seconds || 0) / 60))
  return { days: Math.floor(total / 1440), hours: Math.floor((total % 1440) / 60), minutes: total % 60 }
}
