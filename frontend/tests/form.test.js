// A form's live rules: shown, required and read-only fields, and validation rules.
import { describe, expect, it } from 'vitest'
import { changedValues, clientProblems, fieldStates, formLayout, ruleContext } from '../src/logic/form.js'

const entity = {
  key: 'customer',
  fields: [
    { key: 'name', type: 'text', title: { 'zh-CN': '名称' }, required: true },
    { key: 'level', type: 'select', title: { 'zh-CN': '级别' }, options: [{ key: 'a' }, { key: 'b' }] },
    { key: 'notes', type: 'long_text', title: { 'zh-CN': '说明' }, visible_when: { '==': [{ var: 'level' }, 'a'] }, required_when: { '!!': { var: 'budget' } } },
    { key: 'budget', type: 'money', title: { 'zh-CN': '预算' }, readonly_when: { '!=': [{ var: '$user.id' }, 1] } },
    { key: 'code', type: 'autonumber', title: { 'zh-CN': '编号' } },
  ],
  validations: [
    { key: 'positive', rule: { '>=': [{ var: 'budget' }, 0] }, message: { 'zh-CN': '预算不能为负', en: 'No negative budget' }, fields: ['budget'] },
    { key: 'whole', rule: { '!=': [{ var: 'name' }, 'x'] }, message: { 'zh-CN': '名称不能是 x' } },
  ],
  forms: [{ key: 'main', sections: [{ title: { 'zh-CN': '基本' }, columns: 2, fields: ['name', 'level', 'gone'] }, { fields: ['notes', 'budget'] }] }],
}
const me = ruleContext({ id: 1, username: 'a', roles: ['sales'] }, new Date('2026-01-02T03:04:05.678Z'))
const options = { requiredMessage: 'required', localize: (map) => map['zh-CN'] }

describe('field states', () => {
  it('follow visible_when, required_when and readonly_when as values change', () => {
    let states = fieldStates(entity, { level: 'b' }, me)
    expect(states.notes).toEqual({ visible: false, required: false, readonly: false })
    states = fieldStates(entity, { level: 'a', budget: 5 }, me)
    expect(states.notes).toEqual({ visible: true, required: true, readonly: false })
    expect(states.budget.readonly).toBe(false)
    expect(fieldStates(entity, {}, ruleContext({ id: 2 })).budget.readonly).toBe(true)
    expect(states.code.readonly).toBe(true)
    expect(me.$now).toBe('2026-01-02T03:04:05Z')
    expect(me.$user.roles).toEqual(['sales'])
  })
})

describe('problems found in the browser', () => {
  it('required fields, only when shown', () => {
    expect(clientProblems(entity, { level: 'b', budget: 3 }, me, options)).toEqual({ name: ['required'] })
    expect(clientProblems(entity, { name: 'n', level: 'a', budget: 3 }, me, options)).toEqual({ notes: ['required'] })
  })

  it('validation rules, on their fields or on the whole form', () => {
    expect(clientProblems(entity, { name: 'x', budget: -1 }, me, options)).toEqual({ budget: ['预算不能为负'], $: ['名称不能是 x'] })
  })
})

describe('layout and what is sent', () => {
  it('the main form gives sections; unknown keys are skipped', () => {
    const layout = formLayout(entity)
    expect(layout.map((s) => [s.key, s.columns, s.fields])).toEqual([['section_1', 2, ['name', 'level']], ['section_2', 1, ['notes', 'budget']]])
    expect(formLayout({ fields: [{ key: 'a' }] })[0].fields).toEqual(['a'])
  })

  it('only changed, shown, editable fields are sent', () => {
    const original = { name: 'n', level: 'a', notes: 'old', budget: 1, code: 'C-1' }
    const values = { ...original, level: 'b', notes: 'new', budget: 2, code: 'C-2' }
    expect(changedValues(entity, values, original, me)).toEqual({ level: 'b', budget: 2 })
    expect(changedValues(entity, { name: 'new' }, null, me)).toEqual({ name: 'new' })
  })
})
