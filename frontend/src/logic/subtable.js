// Sub-table rows (quote lines...) edited inside their parent's form: what a row sends, and
// formulas computed as the values are typed, with the same JsonLogic the server runs.
import { evaluate } from './jsonlogic.js'
import { isComputed } from './fieldKinds.js'

/** The child entity a sub-table field holds. */
export function childEntityOf(app, field) {
  return (app?.entities || []).find((entity) => entity.key === field.entity) || null
}

/** Half-up rounding in decimal, as a person counts: 3 × 1.115 is 3.35. */
export function roundTo(value, digits) {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) return value
  const shifted = Math.round(Number(`${Number(value.toPrecision(15))}e${digits}`))
  return Number(`${shifted}e-${digits}`)
}

/** Values of formula fields for `values` (as the server computes them on save). */
export function formulaValues(entity, values) {
  const out = {}
  for (const field of entity?.fields || []) {
    if (field.type !== 'formula' || !field.expression) continue
    let result
    try {
      result = evaluate(field.expression, values || {})
    } catch {
      result = null
    }
    if (typeof result === 'number') {
      if (!Number.isFinite(result)) result = null
      else if (Number.isInteger(field.precision)) result = roundTo(result, field.precision)
    }
    out[field.key] = result ?? null
  }
  return out
}

/** A row as the records API takes it: its id (when stored) and its editable values. */
export function rowPayload(entity, row) {
  const out = {}
  if (row?.id) out.id = row.id
  for (const field of entity?.fields || []) {
    if (isComputed(field)) continue
    if (field.type === 'subtable') continue // rows of rows are kept as they are
    const value = row?.[field.key]
    out[field.key] = value === undefined ? null : value
  }
  return out
}

/** A new row with the child entity's static defaults. */
export function newRow(entity) {
  const row = {}
  for (const field of entity?.fields || []) {
    const value = field.default
    if (value !== undefined && value !== null && !(typeof value === 'object' && !Array.isArray(value))) row[field.key] = value
  }
  return row
}
