// What the interface needs to know about field types beyond the registry's answer
// (GET /api/field-types): the palette group of each built-in type. A type the server adds
// later lands in the "other" group and is edited with its generic properties.

export const PALETTE_GROUPS = [
  { key: 'text', types: ['text', 'long_text', 'email', 'phone', 'url', 'barcode'] },
  { key: 'number', types: ['number', 'money', 'percent'] },
  { key: 'choice', types: ['select', 'multi_select', 'boolean'] },
  { key: 'time', types: ['date', 'datetime'] },
  { key: 'reference', types: ['user', 'relation', 'subtable'] },
  { key: 'files', types: ['attachment', 'image'] },
  { key: 'computed', types: ['autonumber', 'formula'] },
]

export function paletteGroups(fieldTypes) {
  const known = new Set(PALETTE_GROUPS.flatMap((group) => group.types))
  const byType = Object.fromEntries(fieldTypes.map((item) => [item.type, item]))
  const groups = PALETTE_GROUPS.map((group) => ({
    key: group.key,
    items: group.types.filter((type) => byType[type]).map((type) => byType[type]),
  }))
  const others = fieldTypes.filter((item) => !known.has(item.type))
  if (others.length) groups.push({ key: 'other', items: others })
  return groups.filter((group) => group.items.length)
}

const NUMERIC = new Set(['number', 'money', 'percent'])

export function isNumeric(field) {
  return NUMERIC.has(field.type) || (field.type === 'formula' && field.result_type === 'number')
}

/** The JsonLogic value kind of a field definition, as the server's `kind_of` says. */
export function kindOf(field, fieldTypes) {
  if (field.type === 'formula') {
    return { number: 'number', text: 'text', boolean: 'boolean', date: 'date' }[field.result_type] || 'text'
  }
  const found = (fieldTypes || []).find((item) => item.type === field.type)
  if (found) return found.kind
  return DEFAULT_KINDS[field.type] || 'text'
}

const DEFAULT_KINDS = {
  number: 'number', money: 'number', percent: 'number', date: 'date', datetime: 'datetime',
  boolean: 'boolean', multi_select: 'list', user: 'id', relation: 'id', subtable: 'list',
  attachment: 'list', image: 'list',
}

export const COMPUTED_TYPES = new Set(['autonumber', 'formula'])

export function isComputed(field) {
  return COMPUTED_TYPES.has(field.type)
}

/** Empty the way the server's `is_empty` means it. */
export function isEmpty(value) {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
}
