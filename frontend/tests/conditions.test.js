// The condition builder writes exactly the JsonLogic of the shared fixture
// (tests/fixtures/condition_builder_cases.json; pytest runs the same rules as list filters
// through the records API) and reads it back into the same model.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { builderKind, fromLogic, isFullyVisual, newGroup, newRule, operatorsFor, toLogic } from '../src/logic/conditions.js'
import { evaluate, truthy } from '../src/logic/jsonlogic.js'

const FIXTURE = JSON.parse(readFileSync(fileURLToPath(new URL('../../tests/fixtures/condition_builder_cases.json', import.meta.url)), 'utf8'))
const FIELDS = FIXTURE.fields

describe('the builder writes the fixture JsonLogic', () => {
  it.each(FIXTURE.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    expect(toLogic(c.condition, FIELDS)).toEqual(c.logic)
  })

  it.each(FIXTURE.cases.map((c) => [c.name, c]))('reads back: %s', (_name, c) => {
    const model = fromLogic(c.logic, FIELDS)
    expect(isFullyVisual(model)).toBe(true)
    expect(toLogic(model, FIELDS)).toEqual(c.logic)
  })
})

describe('incomplete and unusual conditions', () => {
  it('an empty group, or one with only unfinished rules, is no condition', () => {
    expect(toLogic(newGroup(), FIELDS)).toBe(null)
    const group = newGroup()
    group.items.push(newRule('name', 'eq', ''), newRule('', 'eq', 'x'), newRule('budget', 'gt', null), newRule('level', 'in', []))
    expect(toLogic(group, FIELDS)).toBe(null)
    group.items.push(newRule('budget', 'gt', 5))
    expect(toLogic(group, FIELDS)).toEqual({ '>': [{ var: 'budget' }, 5] })
  })

  it('an operator the field does not support is left out', () => {
    const group = newGroup()
    group.items.push(newRule('name', 'gt', 'a'), newRule('active', 'eq', true))
    expect(toLogic(group, FIELDS)).toBe(null)
  })

  it('a rule on a field that no longer exists is left out', () => {
    const group = newGroup()
    group.items.push(newRule('gone', 'eq', 1))
    expect(toLogic(group, FIELDS)).toBe(null)
  })

  it('JsonLogic the builder cannot show is kept as an advanced part, unchanged', () => {
    const logic = { and: [{ '==': [{ var: 'level' }, 'a'] }, { '<': [{ '+': [{ var: 'budget' }, 1] }, 10] }] }
    const model = fromLogic(logic, FIELDS)
    expect(isFullyVisual(model)).toBe(false)
    expect(model.items[0]).toEqual({ field: 'level', op: 'eq', value: 'a' })
    expect(toLogic(model, FIELDS)).toEqual(logic)
  })

  it('no rule at all reads as an empty group', () => {
    expect(fromLogic(null, FIELDS)).toEqual({ logic: 'and', items: [] })
  })
})

describe('operators by field', () => {
  const byKey = Object.fromEntries(FIELDS.map((f) => [f.key, f]))
  it('offers what each kind of field can be compared with', () => {
    expect(operatorsFor(byKey.name)).toContain('contains')
    expect(operatorsFor(byKey.name)).not.toContain('gt')
    expect(operatorsFor(byKey.level)).toEqual(['eq', 'ne', 'in', 'not_in', 'empty', 'not_empty'])
    expect(operatorsFor(byKey.tags)).toContain('has')
    expect(operatorsFor(byKey.budget)).toContain('gte')
    expect(operatorsFor(byKey.active)).toEqual(['is_true', 'is_false'])
    expect(operatorsFor(byKey.manager)[0]).toBe('is_me')
    expect(builderKind({ type: 'formula', result_type: 'number' })).toBe('number')
    expect(builderKind({ type: 'some_new_type' }, [{ type: 'some_new_type', kind: 'date' }])).toBe('date')
  })
})

describe('what the written rules mean in the browser', () => {
  it('"is empty" on a number does not match 0, on text it matches ""', () => {
    const numberEmpty = FIXTURE.cases.find((c) => c.name.startsWith('number is empty')).logic
    expect(truthy(evaluate(numberEmpty, { budget: 0 }))).toBe(false)
    expect(truthy(evaluate(numberEmpty, { budget: null }))).toBe(true)
    const textEmpty = FIXTURE.cases.find((c) => c.name === 'text is empty').logic
    expect(truthy(evaluate(textEmpty, { name: '' }))).toBe(true)
  })
})
