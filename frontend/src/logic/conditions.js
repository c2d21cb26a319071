// The visual condition builder's model and its JsonLogic.
//
// A condition is a group {logic: 'and'|'or', items: [...]} whose items are rules
// {field, op, value} or nested groups. `toLogic` writes JsonLogic using only the operator
// subset the server translates to SQL (builder/runtime/query/jsonlogic_sql.py), so the same
// condition filters lists in the database and shows or hides fields in the browser.
// `fromLogic` reads such JsonLogic back; anything else is kept as an advanced rule.
import { kindOf } from './fieldKinds.js'

const v = (field) => ({ var: field })

// value: 'one' (a single value), 'many' (a list of option keys), 'none'
export const OPERATORS = {
  eq: { value: 'one', logic: (f, x) => ({ '==': [v(f), x] }) },
  ne: { value: 'one', logic: (f, x) => ({ '!=': [v(f), x] }) },
  lt: { value: 'one', logic: (f, x) => ({ '<': [v(f), x] }) },
  lte: { value: 'one', logic: (f, x) => ({ '<=': [v(f), x] }) },
  gt: { value: 'one', logic: (f, x) => ({ '>': [v(f), x] }) },
  gte: { value: 'one', logic: (f, x) => ({ '>=': [v(f), x] }) },
  contains: { value: 'one', logic: (f, x) => ({ in: [x, v(f)] }) },
  not_contains: { value: 'one', logic: (f, x) => ({ '!': { in: [x, v(f)] } }) },
  in: { value: 'many', logic: (f, x) => ({ in: [v(f), x] }) },
  not_in: { value: 'many', logic: (f, x) => ({ '!': { in: [v(f), x] } }) },
  has: { value: 'one', logic: (f, x) => ({ in: [x, v(f)] }) },
  not_has: { value: 'one', logic: (f, x) => ({ '!': { in: [x, v(f)] } }) },
  is_me: { value: 'none', logic: (f) => ({ '==': [v(f), v('$user.id')] }) },
  not_me: { value: 'none', logic: (f) => ({ '!=': [v(f), v('$user.id')] }) },
  is_true: { value: 'none', logic: (f) => ({ '!!': v(f) }) },
  is_false: { value: 'none', logic: (f) => ({ '!': v(f) }) },
  // emptiness: null-or-"" for text and lists, null for numbers, dates and ids (0 is a value)
  empty: { value: 'none', logic: (f, x, nullable) => (nullable ? { '==': [v(f), null] } : { '!': v(f) }) },
  not_empty: { value: 'none', logic: (f, x, nullable) => (nullable ? { '!=': [v(f), null] } : { '!!': v(f) }) },
}

const BY_KIND = {
  text: ['eq', 'ne', 'contains', 'not_contains', 'empty', 'not_empty'],
  select: ['eq', 'ne', 'in', 'not_in', 'empty', 'not_empty'],
  options: ['has', 'not_has', 'empty', 'not_empty'],
  list: ['empty', 'not_empty'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  date: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  datetime: ['gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  boolean: ['is_true', 'is_false'],
  user: ['is_me', 'not_me', 'eq', 'ne', 'empty', 'not_empty'],
  id: ['eq', 'ne', 'empty', 'not_empty'],
}

/** How the builder treats a field: one of the keys of BY_KIND. */
export function builderKind(field, fieldTypes) {
  if (field.type === 'select') return 'select'
  if (field.type === 'multi_select') return 'options'
  if (field.type === 'user') return 'user'
  const kind = kindOf(field, fieldTypes)
  return BY_KIND[kind] ? kind : 'text'
}

export function operatorsFor(field, fieldTypes) {
  return field ? BY_KIND[builderKind(field, fieldTypes)] : []
}

function nullable(kind) {
  return ['number', 'date', 'datetime', 'id', 'user', 'select', 'boolean'].includes(kind)
}

export function newGroup(logic = 'and') {
  return { logic, items: [] }
}

export function newRule(field = '', op = '', value = null) {
  return { field, op, value }
}

function hasValue(op, value) {
  const spec = OPERATORS[op]
  if (!spec) return false
  if (spec.value === 'none') return true
  if (spec.value === 'many') return Array.isArray(value) && value.length > 0
  return value !== null && value !== undefined && value !== ''
}

/** A value as the field stores it: numbers as numbers, the rest as given. */
function coerce(value, kind) {
  if (kind === 'number' && typeof value === 'string' && value.trim() !== '') {
    const number = Number(value)
    return Number.isFinite(number) ? number : value
  }
  if (kind === 'id' && typeof value === 'string' && /^\d+$/.test(value)) return Number(value)
  return value
}

/** JsonLogic for a group (null when it holds no complete rule). */
export function toLogic(group, fields, fieldTypes) {
  const byKey = Object.fromEntries((fields || []).map((f) => [f.key, f]))
  const walk = (node) => {
    if (node.items) {
      const parts = node.items.map(walk).filter((part) => part !== null)
      if (!parts.length) return null
      if (parts.length === 1) return parts[0]
      return { [node.logic === 'or' ? 'or' : 'and']: parts }
    }
    if (node.raw !== undefined) return node.raw
    const field = byKey[node.field]
    if (!field || !hasValue(node.op, node.value)) return null
    const kind = builderKind(field, fieldTypes)
    if (!BY_KIND[kind].includes(node.op)) return null
    const value = Array.isArray(node.value) ? node.value.map((x) => coerce(x, kind)) : coerce(node.value, kind)
    return OPERATORS[node.op].logic(node.field, value, nullable(kind))
  }
  return walk(group)
}

// --- reading JsonLogic back -------------------------------------------------------------

const COMPARE = { '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }

function varName(node) {
  if (node && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 1 && 'var' in node) {
    return typeof node.var === 'string' ? node.var : null
  }
  return null
}

function single(logic) {
  if (!logic || typeof logic !== 'object' || Array.isArray(logic)) return null
  const ops = Object.keys(logic)
  return ops.length === 1 ? [ops[0], logic[ops[0]]] : null
}

function isLiteral(value) {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
}

function ruleFrom(logic, byKey, fieldTypes) {
  const parsed = single(logic)
  if (!parsed) return null
  const [op, args] = parsed
  const kindOfKey = (key) => (byKey[key] ? builderKind(byKey[key], fieldTypes) : null)
  if (op in COMPARE && Array.isArray(args) && args.length === 2) {
    const field = varName(args[0])
    if (!field || !byKey[field]) return null
    const kind = kindOfKey(field)
    if (varName(args[1]) === '$user.id' && (op === '==' || op === '!=')) {
      return newRule(field, op === '==' ? 'is_me' : 'not_me')
    }
    if (!isLiteral(args[1])) return null
    if (args[1] === null && nullable(kind) && (op === '==' || op === '!=')) {
      return newRule(field, op === '==' ? 'empty' : 'not_empty')
    }
    return newRule(field, COMPARE[op], args[1])
  }
  if (op === '!' || op === '!!') {
    const inner = Array.isArray(args) && args.length === 1 ? args[0] : args
    const field = varName(inner)
    if (field && byKey[field]) {
      const kind = kindOfKey(field)
      if (kind === 'boolean') return newRule(field, op === '!!' ? 'is_true' : 'is_false')
      return newRule(field, op === '!' ? 'empty' : 'not_empty')
    }
    if (op === '!') {
      const positive = ruleFrom(inner, byKey, fieldTypes)
      const negate = { contains: 'not_contains', in: 'not_in', has: 'not_has' }
      if (positive && negate[positive.op]) return newRule(positive.field, negate[positive.op], positive.value)
    }
    return null
  }
  if (op === 'in' && Array.isArray(args) && args.length === 2) {
    const hay = varName(args[1])
    if (hay && byKey[hay] && isLiteral(args[0])) {
      return newRule(hay, kindOfKey(hay) === 'options' ? 'has' : 'contains', args[0])
    }
    const needle = varName(args[0])
    if (needle && byKey[needle] && Array.isArray(args[1]) && args[1].every(isLiteral)) {
      return newRule(needle, 'in', args[1])
    }
  }
  return null
}

/** The builder's model of `logic`; parts it cannot show as rules become `{raw}` items. */
export function fromLogic(logic, fields, fieldTypes) {
  const byKey = Object.fromEntries((fields || []).map((f) => [f.key, f]))
  if (logic === null || logic === undefined) return newGroup()
  const walk = (node) => {
    const parsed = single(node)
    if (parsed && (parsed[0] === 'and' || parsed[0] === 'or') && Array.isArray(parsed[1])) {
      return { logic: parsed[0], items: parsed[1].map(walk) }
    }
    return ruleFrom(node, byKey, fieldTypes) || { raw: node }
  }
  const root = walk(logic)
  return root.items ? root : { logic: 'and', items: [root] }
}

/** Whether the model shows `logic` without any advanced (raw) part. */
export function isFullyVisual(group) {
  return group.items.every((item) => (item.items ? isFullyVisual(item) : item.raw === undefined))
}
