// A form's live behaviour, the same in the designer's preview and in the generated app:
// which fields show, which are required or read-only, and which of the entity's validation
// rules fail, all by evaluating the definition's JsonLogic with json-logic-js over the
// values being typed plus the context values ($user, $now) the server gives its rules.
import { holds } from './jsonlogic.js'
import { isComputed, isEmpty } from './fieldKinds.js'
import { childEntityOf, rowPayload } from './subtable.js'

export function ruleData(values, context) {
  return { ...(values || {}), ...(context || {}) }
}

export function userContext(user) {
  if (!user) return null
  return {
    id: user.id,
    username: user.username,
    roles: user.roles || [],
    teams: user.teams || [],
    is_tenant_admin: Boolean(user.is_tenant_admin),
  }
}

export function ruleContext(user, now = new Date()) {
  return { $user: userContext(user), $now: now.toISOString().replace(/\.\d{3}Z$/, 'Z') }
}

/** {key: {visible, required, readonly}} for every field of the entity. */
export function fieldStates(entity, values, context) {
  const data = ruleData(values, context)
  const states = {}
  for (const field of entity.fields || []) {
    const visible = holds(field.visible_when, data, true)
    const required = visible && (Boolean(field.required) || holds(field.required_when, data, false))
    const readonly = isComputed(field) || holds(field.readonly_when, data, false)
    states[field.key] = { visible, required, readonly }
  }
  return states
}

/**
 * Problems the browser can see before sending: required fields left empty and validation
 * rules that fail. `{field key: [message]}`, plus `$` for rules that name no field.
 * The server checks all of this again (and unique values, ranges, patterns) and answers 422.
 */
export function clientProblems(entity, values, context, { requiredMessage, localize }) {
  const states = fieldStates(entity, values, context)
  const problems = {}
  const add = (key, message) => {
    ;(problems[key] ||= []).push(message)
  }
  for (const field of entity.fields || []) {
    const state = states[field.key]
    if (state.visible && state.required && !state.readonly && isEmpty(values?.[field.key])) {
      add(field.key, requiredMessage)
    }
  }
  const data = ruleData(values, context)
  for (const rule of entity.validations || []) {
    if (holds(rule.rule, data, true)) continue
    const message = localize(rule.message) || rule.key
    const targets = (rule.fields || []).filter((key) => states[key]?.visible)
    if (targets.length) targets.forEach((key) => add(key, message))
    else add('$', message)
  }
  return problems
}

/** The form layout: the entity's first form, or one section with every field. */
export function formLayout(entity) {
  const form = (entity.forms || [])[0]
  const known = new Set((entity.fields || []).map((f) => f.key))
  if (form && form.sections?.length) {
    return form.sections.map((section, index) => ({
      key: section.key || `section_${index + 1}`,
      title: section.title,
      columns: section.columns || 1,
      fields: (section.fields || []).filter((key) => known.has(key)),
    }))
  }
  return [{ key: 'section_1', title: null, columns: 1, fields: [...known] }]
}

/**
 * What a form sends: the visible, editable fields that differ from `original`. Sub-table
 * fields (with `app`, to know their rows' entity) send all their rows when any changed.
 */
export function changedValues(entity, values, original, context, app = null) {
  const states = fieldStates(entity, values, context)
  const changes = {}
  for (const field of entity.fields || []) {
    const state = states[field.key]
    if (!state.visible || state.readonly) continue
    if (field.type === 'subtable') {
      const child = childEntityOf(app, field)
      if (!child) continue
      const rows = (values[field.key] || []).map((row) => rowPayload(child, row))
      const before = (original?.[field.key] || []).map((row) => rowPayload(child, row))
      if (JSON.stringify(rows) !== JSON.stringify(before)) changes[field.key] = rows
      continue
    }
    const value = values[field.key] === undefined ? null : values[field.key]
    const before = original ? (original[field.key] ?? null) : null
    if (JSON.stringify(value) !== JSON.stringify(before)) changes[field.key] = value
  }
  return changes
}

/** The field that names a record: the entity's `title_field`, else its first text field. */
export function titleFieldOf(entity) {
  if (entity?.title_field) return entity.title_field
  const first = (entity?.fields || []).find((f) => ['text', 'autonumber'].includes(f.type))
  return first ? first.key : null
}
