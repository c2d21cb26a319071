// Editing an app definition in the designer: new apps, entities and fields, and keeping the
// entity's main form (its sections and columns) in step with its fields.
import { cleanProcesses } from './processes.js'
import { fieldsRead } from './jsonlogic.js'
import { generateKey } from './keys.js'

export const MAIN_FORM = 'main'

export function languageMap(zh, en) {
  const map = {}
  if (zh) map['zh-CN'] = zh
  if (en) map.en = en
  if (!map['zh-CN'] && en) map['zh-CN'] = en
  return map
}

export function newApp({ key, zh, en }) {
  return { format: 1, key, version: '1.0.0', title: languageMap(zh, en), entities: [] }
}

export function newSection(title, index = 1, columns = 1) {
  return { key: `section_${index}`, title, columns, fields: [] }
}

export function newEntity(app, { zh, en, key }, sectionTitle) {
  const entityKey = key || generateKey([en, zh], app.entities.map((e) => e.key), 'entity')
  const title = languageMap(zh, en)
  return {
    key: entityKey,
    title,
    fields: [],
    forms: [{ key: MAIN_FORM, title, sections: [newSection(sectionTitle, 1, 1)] }],
  }
}

function typeDefaults(type, app, entity, optionTitles) {
  switch (type) {
    case 'select':
    case 'multi_select':
      return {
        options: [1, 2].map((n) => ({ key: `option_${n}`, title: optionTitles(n) })),
      }
    case 'relation': {
      const target = app.entities.find((e) => e.key !== entity.key) || entity
      return { entity: target.key }
    }
    case 'subtable': {
      const target = app.entities.find((e) => e.key !== entity.key)
      return target ? { entity: target.key } : {}
    }
    case 'autonumber':
      return { template: 'NO-{YYYY}-{seq:5}' }
    case 'formula':
      return { expression: { '+': [0, 0] }, result_type: 'number' }
    default:
      return {}
  }
}

/**
 * A new field of `fieldType` (an item of GET /api/field-types) for `entity`, titled like
 * its type and keyed from the English title (`text`, `text_2`...).
 */
export function newField(app, entity, fieldType, optionTitles) {
  const en = fieldType.title?.en
  const zh = fieldType.title?.['zh-CN']
  return {
    key: generateKey([en, zh], entity.fields.map((f) => f.key)),
    type: fieldType.type,
    title: languageMap(zh, en),
    ...typeDefaults(fieldType.type, app, entity, optionTitles),
  }
}

/** The entity's main form, created with every field in one section when it has none. */
export function mainForm(entity, sectionTitle) {
  entity.forms ||= []
  let form = entity.forms[0]
  if (!form) {
    form = { key: MAIN_FORM, title: entity.title, sections: [] }
    entity.forms.push(form)
  }
  if (!form.sections?.length) form.sections = [newSection(sectionTitle, 1, 1)]
  const placed = new Set(form.sections.flatMap((s) => s.fields))
  const last = form.sections[form.sections.length - 1]
  for (const field of entity.fields) {
    if (!placed.has(field.key)) last.fields.push(field.key)
  }
  return form
}

/** Fields in the order the main form shows them (others keep their place at the end). */
export function orderFieldsByForm(entity) {
  const form = (entity.forms || [])[0]
  if (!form) return
  const order = form.sections.flatMap((s) => s.fields)
  const rank = new Map(order.map((key, index) => [key, index]))
  entity.fields.sort((a, b) => (rank.get(a.key) ?? 1e9) - (rank.get(b.key) ?? 1e9))
}

/** Rename a field's key everywhere the entity refers to it (forms, views, rules). */
export function renameField(entity, oldKey, newKey) {
  if (oldKey === newKey) return
  const field = entity.fields.find((f) => f.key === oldKey)
  if (field) field.key = newKey
  const swap = (list) => (list || []).map((key) => (key === oldKey ? newKey : key))
  for (const form of entity.forms || []) {
    for (const section of form.sections || []) section.fields = swap(section.fields)
  }
  for (const view of entity.views || []) {
    if (view.columns) view.columns = swap(view.columns)
    for (const sort of view.sort || []) if (sort.field === oldKey) sort.field = newKey
  }
  for (const rule of entity.validations || []) if (rule.fields) rule.fields = swap(rule.fields)
  if (entity.title_field === oldKey) entity.title_field = newKey
  const rewrite = (logic) => JSON.parse(JSON.stringify(logic), (name, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && 'var' in value) {
      const target = Array.isArray(value.var) ? value.var[0] : value.var
      if (typeof target === 'string' && (target === oldKey || target.startsWith(`${oldKey}.`))) {
        const renamed = newKey + target.slice(oldKey.length)
        return { var: Array.isArray(value.var) ? [renamed, ...value.var.slice(1)] : renamed }
      }
    }
    return value
  })
  for (const other of entity.fields) {
    for (const prop of ['visible_when', 'required_when', 'readonly_when']) {
      if (other[prop] !== undefined) other[prop] = rewrite(other[prop])
    }
  }
  for (const rule of entity.validations || []) rule.rule = rewrite(rule.rule)
}

/** Remove a field and every reference the entity makes to it by key. */
export function removeField(entity, key) {
  entity.fields = entity.fields.filter((f) => f.key !== key)
  for (const form of entity.forms || []) {
    for (const section of form.sections || []) section.fields = section.fields.filter((k) => k !== key)
  }
  for (const view of entity.views || []) {
    if (view.columns) view.columns = view.columns.filter((k) => k !== key)
    if (view.sort) view.sort = view.sort.filter((s) => s.field !== key)
  }
  entity.validations = (entity.validations || []).filter((rule) => !fieldsRead(rule.rule).has(key))
  for (const rule of entity.validations) if (rule.fields) rule.fields = rule.fields.filter((k) => k !== key)
  for (const other of entity.fields) {
    for (const prop of ['visible_when', 'required_when', 'readonly_when']) {
      if (other[prop] !== undefined && fieldsRead(other[prop]).has(key)) delete other[prop]
    }
  }
  if (entity.title_field === key) delete entity.title_field
}

/** Drop empty optional properties before saving (the server refuses some empty values). */
export function cleanField(field) {
  for (const prop of ['visible_when', 'required_when', 'readonly_when', 'default', 'min', 'max',
    'min_length', 'max_length', 'pattern', 'help', 'description', 'pattern_message']) {
    const value = field[prop]
    if (value === null || value === undefined || value === '') delete field[prop]
    else if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) delete field[prop]
  }
  for (const prop of ['help', 'description', 'pattern_message']) {
    if (field[prop] && !field[prop]['zh-CN']) {
      if (field[prop].en) field[prop]['zh-CN'] = field[prop].en
      else delete field[prop]
    }
  }
  return field
}

/** A copy ready for PUT /draft: fields ordered by the form, empty properties removed (also in the processes). */
export function forSaving(definition) {
  const copy = JSON.parse(JSON.stringify(definition))
  for (const entity of copy.entities || []) {
    orderFieldsByForm(entity)
    entity.fields.forEach(cleanField)
    for (const form of entity.forms || []) {
      form.sections.forEach((section, index) => {
        section.key ||= `section_${index + 1}`
        if (section.title && !section.title['zh-CN']) {
          if (section.title.en) section.title['zh-CN'] = section.title.en
          else delete section.title
        }
      })
    }
  }
  return cleanProcesses(copy)
}

/** Where a definition problem's path points: {entity, field} indexes, or nulls. */
export function locateProblem(path) {
  const match = /^entities\[(\d+)\](?:\.(fields|validations)\[(\d+)\])?/.exec(path || '')
  if (!match) return { entity: null, field: null, validation: null }
  return {
    entity: Number(match[1]),
    field: match[2] === 'fields' ? Number(match[3]) : null,
    validation: match[2] === 'validations' ? Number(match[3]) : null,
  }
}
