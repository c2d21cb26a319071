// Keys generated from titles, and the designer's edits of a definition.
import { describe, expect, it } from 'vitest'
import { generateKey, isValidKey, slug } from '../src/logic/keys.js'
import { forSaving, locateProblem, mainForm, newApp, newEntity, newField, orderFieldsByForm, removeField, renameField } from '../src/logic/definition.js'
import { paletteGroups } from '../src/logic/fieldKinds.js'

const TYPES = [
  { type: 'text', title: { 'zh-CN': '单行文本', en: 'Text' }, kind: 'text', properties: [] },
  { type: 'select', title: { 'zh-CN': '单选', en: 'Single select' }, kind: 'text', properties: ['options'] },
  { type: 'number', title: { 'zh-CN': '数字', en: 'Number' }, kind: 'number', properties: ['precision'] },
  { type: 'relation', title: { 'zh-CN': '关联记录', en: 'Relation' }, kind: 'id', properties: ['entity'] },
  { type: 'rating', title: { 'zh-CN': '评分', en: 'Rating' }, kind: 'number', properties: [] },
]
const optionTitles = (n) => ({ 'zh-CN': `选项${n}`, en: `Option ${n}` })

describe('keys', () => {
  it('come from Latin titles, else a numbered placeholder, never taken or reserved', () => {
    expect(generateKey(['Customer name'], [])).toBe('customer_name')
    expect(generateKey(['Customer name'], ['customer_name'])).toBe('customer_name_2')
    expect(generateKey(['', '客户名称'], [])).toBe('field_1')
    expect(generateKey(['客户名称'], ['field_1'])).toBe('field_2')
    expect(generateKey(['2026 budget'], [])).toBe('field_2026_budget')
    expect(generateKey(['Owner'], [])).toBe('owner_2')
    expect(generateKey(['Café crème'], [], 'app')).toBe('cafe_creme')
    expect(slug('  Hello,  World!! ')).toBe('hello_world')
  })

  it('are checked like the server checks them', () => {
    expect(isValidKey('budget_2026')).toBe(true)
    for (const bad of ['', '2x', 'Budget', 'a-b', 'version', 'x'.repeat(64)]) expect(isValidKey(bad)).toBe(false)
  })
})

describe('editing a definition', () => {
  function sample() {
    const app = newApp({ key: 'crm', zh: '客户管理', en: 'CRM' })
    const customer = newEntity(app, { zh: '客户', en: 'Customer' }, { 'zh-CN': '分组1' })
    app.entities.push(customer)
    const name = newField(app, customer, TYPES[0], optionTitles)
    customer.fields.push(name)
    const level = newField(app, customer, TYPES[1], optionTitles)
    customer.fields.push(level)
    const budget = newField(app, customer, TYPES[2], optionTitles)
    customer.fields.push(budget)
    return { app, customer }
  }

  it('new entities have a main form; new fields are keyed and defaulted by type', () => {
    const { app, customer } = sample()
    expect(app).toMatchObject({ format: 1, key: 'crm', title: { 'zh-CN': '客户管理', en: 'CRM' } })
    expect(customer.key).toBe('customer')
    expect(customer.fields.map((f) => f.key)).toEqual(['text', 'single_select', 'number'])
    expect(customer.fields[1].options.map((o) => o.key)).toEqual(['option_1', 'option_2'])
    const form = mainForm(customer, { 'zh-CN': '分组1' })
    expect(form.sections[0].fields).toEqual(['text', 'single_select', 'number'])
    const relation = newField(app, customer, TYPES[3], optionTitles)
    expect(relation.entity).toBe('customer')
  })

  it('renaming a field rewrites the form, views and rules that name it', () => {
    const { customer } = sample()
    mainForm(customer, {})
    customer.fields[2].visible_when = { '==': [{ var: 'single_select' }, 'option_1'] }
    customer.validations = [{ key: 'r', rule: { '>': [{ var: 'single_select.x' }, 0] }, message: { 'zh-CN': 'x' }, fields: ['single_select'] }]
    customer.views = [{ key: 'all', columns: ['single_select'], sort: [{ field: 'single_select' }] }]
    renameField(customer, 'single_select', 'level')
    expect(customer.forms[0].sections[0].fields).toEqual(['text', 'level', 'number'])
    expect(customer.fields[2].visible_when).toEqual({ '==': [{ var: 'level' }, 'option_1'] })
    expect(customer.validations[0].rule).toEqual({ '>': [{ var: 'level.x' }, 0] })
    expect(customer.validations[0].fields).toEqual(['level'])
    expect(customer.views[0]).toMatchObject({ columns: ['level'], sort: [{ field: 'level' }] })
  })

  it('removing a field removes what refers to it', () => {
    const { customer } = sample()
    mainForm(customer, {})
    customer.fields[2].visible_when = { '!!': { var: 'single_select' } }
    customer.validations = [{ key: 'r', rule: { '!!': { var: 'single_select' } }, message: {}, fields: [] }]
    removeField(customer, 'single_select')
    expect(customer.fields.map((f) => f.key)).toEqual(['text', 'number'])
    expect(customer.forms[0].sections[0].fields).toEqual(['text', 'number'])
    expect(customer.fields[1].visible_when).toBeUndefined()
    expect(customer.validations).toEqual([])
  })

  it('saving orders fields by the form and drops empty properties', () => {
    const { app, customer } = sample()
    const form = mainForm(customer, {})
    form.sections[0].fields = ['number', 'text', 'single_select']
    customer.fields[0].help = { 'zh-CN': '', en: '' }
    customer.fields[0].default = ''
    customer.fields[1].help = { en: 'Pick one' }
    orderFieldsByForm(customer)
    const saved = forSaving(app)
    expect(saved.entities[0].fields.map((f) => f.key)).toEqual(['number', 'text', 'single_select'])
    expect(saved.entities[0].fields[1]).not.toHaveProperty('help')
    expect(saved.entities[0].fields[1]).not.toHaveProperty('default')
    expect(saved.entities[0].fields[2].help).toEqual({ en: 'Pick one', 'zh-CN': 'Pick one' })
  })

  it('problem paths point at entities, fields and validation rules', () => {
    expect(locateProblem('entities[1].fields[3].options')).toEqual({ entity: 1, field: 3, validation: null })
    expect(locateProblem('entities[0].validations[2].rule')).toEqual({ entity: 0, field: null, validation: 2 })
    expect(locateProblem('key')).toEqual({ entity: null, field: null, validation: null })
  })

  it('the palette groups known types and keeps new ones', () => {
    const groups = paletteGroups(TYPES)
    expect(groups.map((g) => g.key)).toEqual(['text', 'number', 'choice', 'reference', 'other'])
    expect(groups.at(-1).items.map((t) => t.type)).toEqual(['rating'])
  })
})
