// The shared JsonLogic fixture (tests/fixtures/jsonlogic_cases.json, also run by pytest
// against the server's evaluator) through json-logic-js, the browser's evaluator.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { evaluate, fieldsRead, holds, truthy } from '../src/logic/jsonlogic.js'

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/jsonlogic_cases.json', import.meta.url))
const CASES = JSON.parse(readFileSync(FIXTURE, 'utf8'))

// JSON equality that tells booleans from numbers and null from 0, like the pytest side.
function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]))
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => same(a[k], b[k]))
  }
  return a === b
}

describe('the shared fixture file', () => {
  it('is the full suite plus the platform edge cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(250)
    expect(CASES.filter((c) => c.note === 'edge cases the platform relies on').length).toBeGreaterThan(30)
  })

  it.each(CASES.map((c, i) => [i, JSON.stringify(c.logic).slice(0, 60), c]))('case %i: %s', (_i, _label, c) => {
    // JSON cannot carry Infinity or NaN: results are what JSON.stringify makes of them
    const result = evaluate(c.logic, c.data)
    const json = JSON.parse(JSON.stringify(result === undefined ? null : result))
    expect(same(json, c.result)).toBe(true)
  })
})

describe('the equality and cat behaviour the server was made to match', () => {
  it('== and != convert like JavaScript, but null equals only null', () => {
    expect(evaluate({ '==': [null, 0] })).toBe(false)
    expect(evaluate({ '==': [null, false] })).toBe(false)
    expect(evaluate({ '==': ['', 0] })).toBe(true)
    expect(evaluate({ '==': ['1', true] })).toBe(true)
    expect(evaluate({ '!=': [{ var: 'budget' }, 0] }, { budget: null })).toBe(true)
    expect(evaluate({ '==': [{ var: 'budget' }, null] }, {})).toBe(true)
  })

  it('cat writes booleans and numbers as JavaScript does', () => {
    expect(evaluate({ cat: [true, null] })).toBe('true')
    expect(evaluate({ cat: ['Total: ', { var: 'n' }] }, { n: 10.5 })).toBe('Total: 10.5')
    expect(evaluate({ cat: [1e21] })).toBe('1e+21')
  })

  it('the results the designer must not emit differ only where documented', () => {
    expect(evaluate({ '/': [1, 0] })).toBe(Infinity)
    expect(evaluate({ max: [] })).toBe(-Infinity)
    expect(evaluate({ var: ['a', 1] }, { a: null })).toBe(null)
  })
})

describe('helpers', () => {
  it('truthy follows JsonLogic, not JavaScript', () => {
    expect([[], [0], 0, '', '0', null, {}, -1].map(truthy)).toEqual([false, true, false, false, true, false, true, true])
  })

  it('holds falls back when there is no rule or it cannot run', () => {
    expect(holds(undefined, {}, true)).toBe(true)
    expect(holds({ no_such_op: [1] }, {}, false)).toBe(false)
    expect(holds({ '>': [{ var: 'a' }, 1] }, { a: 2 }, false)).toBe(true)
  })

  it('fieldsRead lists the fields a rule reads, without context values', () => {
    const rule = { and: [{ '==': [{ var: 'level' }, 'a'] }, { '>': [{ var: ['budget', 0] }, { var: '$user.id' }] }, { in: ['x', { var: 'tags.0' }] }] }
    expect([...fieldsRead(rule)].sort()).toEqual(['budget', 'level', 'tags'])
  })
})
