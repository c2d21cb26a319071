// Rules in the browser: json-logic-js, the evaluator the server's Python one is made to agree
// with (see tests/fixtures/jsonlogic_cases.json, run by both sides).
import jsonLogic from 'json-logic-js'

// Date arithmetic, the twins of builder/runtime/rules/dates.py (same results on the shared
// cases): date_add, date_diff and date_of over ISO date / datetime strings.
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/
const SECONDS = { minute: 60, hour: 3600, day: 86400, week: 604800 }
const CALENDAR_MONTHS = { month: 1, year: 12 }
const pad = (n, width = 2) => String(n).padStart(width, '0')

function validDay(y, m, d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate() && y >= 1
}

function parseMoment(value) {
  if (typeof value !== 'string') return null
  const text = value.trim()
  let match = DATE_RE.exec(text)
  if (match) {
    const [y, m, d] = match.slice(1, 4).map(Number)
    if (!validDay(y, m, d)) return null
    return { ms: Date.UTC(y, m - 1, d), isDate: true }
  }
  match = DATETIME_RE.exec(text)
  if (!match) return null
  const [y, mo, d, h, mi] = match.slice(1, 6).map(Number)
  const s = Number(match[6] ?? 0)
  const millis = Number((match[7] ?? '0').slice(0, 3).padEnd(3, '0'))
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return null
  let ms = Date.UTC(y, mo - 1, d, h, mi, s, millis)
  const offset = match[8]
  if (offset && offset !== 'Z') {
    const sign = offset[0] === '+' ? 1 : -1
    const digits = offset.slice(1).replace(':', '')
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000
  }
  return { ms, isDate: false }
}

function formatDate(ms) {
  const t = new Date(ms)
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`
}

function formatDateTime(ms) {
  const t = new Date(ms)
  return `${formatDate(ms)}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}Z`
}

function finiteAmount(value) {
  const number = Number(value)
  return Number.isFinite(number) ? number : null
}

function dateAdd(value, amount, unit) {
  const parsed = parseMoment(value)
  const number = finiteAmount(amount)
  if (!parsed || number === null || typeof unit !== 'string') return null
  let { ms } = parsed
  let keepsDate
  if (Object.hasOwn(CALENDAR_MONTHS, unit)) {
    const t = new Date(ms)
    const index = t.getUTCFullYear() * 12 + t.getUTCMonth() + Math.trunc(number) * CALENDAR_MONTHS[unit]
    const year = Math.floor(index / 12)
    const month = index - year * 12
    if (year < 1 || year > 9999) return null
    const day = Math.min(t.getUTCDate(), new Date(Date.UTC(year, month + 1, 0)).getUTCDate())
    const moved = new Date(ms)
    moved.setUTCFullYear(year, month, day)
    ms = moved.getTime()
    keepsDate = true
  } else if (Object.hasOwn(SECONDS, unit)) {
    ms += Math.round(number * SECONDS[unit] * 1000)
    keepsDate = (unit === 'day' || unit === 'week') && Number.isInteger(number)
  } else {
    return null
  }
  const year = new Date(ms).getUTCFullYear()
  if (!Number.isFinite(ms) || year < 1 || year > 9999) return null
  return parsed.isDate && keepsDate ? formatDate(ms) : formatDateTime(ms)
}

function dateDiff(start, end, unit) {
  const first = parseMoment(start)
  const second = parseMoment(end)
  if (!first || !second || !Object.hasOwn(SECONDS, unit)) return null
  return (second.ms - first.ms) / 1000 / SECONDS[unit]
}

function dateOf(value, timezone) {
  const parsed = parseMoment(value)
  if (!parsed) return null
  if (parsed.isDate) return formatDate(parsed.ms)
  const zone = timezone === undefined || timezone === null ? 'Asia/Shanghai' : timezone
  if (typeof zone !== 'string') return null
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
    }).formatToParts(new Date(parsed.ms))
    const get = (type) => parts.find((p) => p.type === type).value
    return `${get('year')}-${get('month')}-${get('day')}`
  } catch {
    return null
  }
}

jsonLogic.add_operation('date_add', dateAdd)
jsonLogic.add_operation('date_diff', dateDiff)
jsonLogic.add_operation('date_of', dateOf)

export function evaluate(rule, data) {
  return jsonLogic.apply(rule, data ?? {})
}

export function truthy(value) {
  return jsonLogic.truthy(value)
}

/** Whether `rule` holds for `data`; `fallback` when there is no rule or it cannot run. */
export function holds(rule, data, fallback) {
  if (rule === undefined || rule === null) return fallback
  try {
    return truthy(evaluate(rule, data))
  } catch {
    return fallback
  }
}

/** Field keys a rule reads with `var` (first path segment, `$`-context values left out). */
export function fieldsRead(rule, found = new Set()) {
  if (Array.isArray(rule)) {
    rule.forEach((item) => fieldsRead(item, found))
  } else if (rule && typeof rule === 'object') {
    for (const [op, args] of Object.entries(rule)) {
      if (op === 'var') {
        const name = Array.isArray(args) ? args[0] : args
        if (typeof name === 'string' && name && !name.startsWith('$')) {
          found.add(name.split('.')[0])
        }
      } else {
        fieldsRead(args, found)
      }
    }
  }
  return found
}
