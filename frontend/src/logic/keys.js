// Keys for apps, entities, fields and options: `^[a-z][a-z0-9_]{0,62}$`, generated from a
// title when it has Latin letters or digits, else `<prefix>_<n>`; never a system field.

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/
export const SYSTEM_FIELDS = new Set([
  'id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'owner', 'version', 'deleted',
  'parent_id',
])
const MAX_BASE = 40

export function slug(text) {
  return String(text || '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_BASE)
    .replace(/_+$/g, '')
}

/**
 * A key for `titles` (tried in order, e.g. the English then the Chinese title) not in
 * `taken`: `customer_name`, `customer_name_2`, or `field_1` for a title without Latin text.
 */
export function generateKey(titles, taken, prefix = 'field') {
  const used = new Set(taken || [])
  const isFree = (key) => !used.has(key) && !SYSTEM_FIELDS.has(key)
  let base = ''
  for (const title of [].concat(titles)) {
    base = slug(title)
    if (base) break
  }
  if (base && !/^[a-z]/.test(base)) base = `${prefix}_${base}`.slice(0, MAX_BASE)
  if (base) {
    if (isFree(base)) return base
    for (let n = 2; ; n += 1) {
      if (isFree(`${base}_${n}`)) return `${base}_${n}`
    }
  }
  for (let n = 1; ; n += 1) {
    if (isFree(`${prefix}_${n}`)) return `${prefix}_${n}`
  }
}

export function isValidKey(key) {
  return KEY_PATTERN.test(key || '') && !SYSTEM_FIELDS.has(key)
}
