// Boards, stage positions, the merged timeline and sub-table rows, from app definitions.
import { describe, expect, it } from 'vitest'
import { boardsOf, columnFilter, stagePosition } from '../src/logic/stages.js'
import { durationParts, timeline } from '../src/logic/timeline.js'
import { formulaValues, newRow, rowPayload } from '../src/logic/subtable.js'
import { changedValues } from '../src/logic/form.js'

const stageField = { key: 'stage', type: 'select', title: { 'zh-CN': '阶段' }, options: [
  { key: 'lead', title: { 'zh-CN': '线索' } }, { key: 'proposal', title: { 'zh-CN': '方案' } },
  { key: 'won', title: { 'zh-CN': '赢单' } }, { key: 'lost', title: { 'zh-CN': '输单' } }] }
const level = { key: 'level', type: 'select', options: [{ key: 'a' }, { key: 'b' }] }
const opportunity = { key: 'opportunity', fields: [{ key: 'name', type: 'text' }, stageField, level, { key: 'amount', type: 'money' }],
  views: [{ key: 'by_level', type: 'kanban', group_by: 'level', columns: ['amount'] }] }
const flow = { key: 'funnel', entity: 'opportunity', field: 'stage', title: { 'zh-CN': '漏斗' }, stages: [
  { key: 'lead', probability: 10 }, { key: 'proposal', title: { 'zh-CN': '方案报价' } },
  { key: 'won', terminal: 'won' }, { key: 'lost', terminal: 'lost', reason_field: 'lost_reason' }] }
const definition = { entities: [opportunity], stage_flows: [flow] }

describe('boards', () => {
  it('one per kanban view, and one per flow no view shows', () => {
    const boards = boardsOf(definition, opportunity)
    expect(boards.map((b) => [b.key, b.field, Boolean(b.flow)])).toEqual([['by_level', 'level', false], ['funnel', 'stage', true]])
    const funnel = boards[1]
    expect(funnel.columns.map((c) => c.key)).toEqual(['lead', 'proposal', 'won', 'lost'])
    expect(funnel.columns[0].title).toEqual({ 'zh-CN': '线索' }) // the option's title when the stage has none
    expect(funnel.columns[1].title).toEqual({ 'zh-CN': '方案报价' })
    expect(funnel.columns[3]).toMatchObject({ terminal: 'lost', reasonField: 'lost_reason' })
    expect(boards[0].cardFields).toEqual(['amount'])
  })

  it('a kanban view on the stage field runs the flow, with the view filter per column', () => {
    const view = { key: 'pipeline', type: 'kanban', group_by: 'stage', filter: { '!=': [{ var: 'stage' }, 'lost'] } }
    const boards = boardsOf(definition, { ...opportunity, views: [view] })
    expect(boards).toHaveLength(1)
    expect(boards[0].flow.key).toBe('funnel')
    expect(columnFilter(boards[0], 'won')).toEqual({ and: [view.filter, { '==': [{ var: 'stage' }, 'won'] }] })
  })

  it('knows where a record stands', () => {
    expect(stagePosition(flow, 'proposal').index).toBe(1)
    expect(stagePosition(flow, 'lost')).toMatchObject({ index: -1, stage: { terminal: 'lost' } })
  })
})

describe('timeline', () => {
  const me = { id: 7, name: '王五' }
  const history = [
    { id: 1, action: 'create', user: me, at: '2026-03-01T01:00:00Z', changes: { name: [null, 'A'], stage: [null, 'lead'] } },
    { id: 2, action: 'update', user: me, at: '2026-03-02T01:00:00Z', changes: { stage: ['lead', 'proposal'] } },
  ]
  const visits = [
    { flow: 'funnel', from: null, to: 'lead', to_title: '线索', by: 7, how: 'created', entered_at: '2026-03-01T01:00:00Z', dwell_seconds: 86400 },
    { flow: 'funnel', from: 'lead', to: 'proposal', from_title: '线索', to_title: '方案', by: 7, how: 'manual', entered_at: '2026-03-02T01:00:00Z', current: true },
  ]
  const runs = [{ id: 3, title: '低价审批', submitted_by: { id: 8, name: '赵六' }, steps: [{ key: 'manager', title: '直属上级' }], actions: [
    { id: 10, action: 'submit', user: { id: 8, name: '赵六' }, at: '2026-03-03T01:00:00Z' },
    { id: 11, action: 'approve', step: 'manager', user: me, comment: '可以', at: '2026-03-04T01:00:00Z' }] }]

  it('merges history, stage moves and approvals, newest first, without telling a stage change twice', () => {
    const entries = timeline({ history, visits, runs, stageFields: ['stage'] })
    expect(entries.map((e) => `${e.kind}:${e.action || e.to}`)).toEqual([
      'approval:approve', 'approval:submit', 'stage:proposal', 'stage:lead', 'history:create'])
    expect(entries[0]).toMatchObject({ chain: '低价审批', step_title: '直属上级', comment: '可以' })
    expect(entries[2].user).toEqual(me)
    expect(entries[4].changes).toEqual({ name: [null, 'A'] })
  })

  it('tells when a related record (a follow-up) was added', () => {
    const followUp = { key: 'follow_up' }
    const entries = timeline({ related: [{ entity: followUp, titleField: 'summary', items: [{ id: 9, summary: '电话沟通', created_by: 7, created_at: '2026-03-05T01:00:00Z' }] }] })
    expect(entries).toEqual([{ key: 'rfollow_up9', kind: 'related', at: '2026-03-05T01:00:00Z', entity: followUp, record: expect.objectContaining({ id: 9 }), by: 7, title: '电话沟通' }])
  })

  it('splits durations', () => {
    expect(durationParts(90061)).toEqual({ days: 1, hours: 1, minutes: 1 })
  })
})

describe('sub-table rows', () => {
  const line = { key: 'quote_line', fields: [
    { key: 'product', type: 'text' }, { key: 'quantity', type: 'number', default: 1 }, { key: 'unit_price', type: 'money' },
    { key: 'total', type: 'formula', precision: 2, expression: { '*': [{ var: 'quantity' }, { var: 'unit_price' }] } }] }
  const quote = { key: 'quote', fields: [{ key: 'name', type: 'text' }, { key: 'lines', type: 'subtable', entity: 'quote_line' }] }
  const app = { entities: [quote, line] }

  it('computes formulas as typed, sends ids and values only', () => {
    expect(formulaValues(line, { quantity: 3, unit_price: 1.115 })).toEqual({ total: 3.35 })
    expect(newRow(line)).toEqual({ quantity: 1 })
    expect(rowPayload(line, { id: 4, version: 2, parent_id: 1, product: 'X', quantity: 2, unit_price: 5, total: 10 }))
      .toEqual({ id: 4, product: 'X', quantity: 2, unit_price: 5 })
  })

  it('a form sends every row when any changed, nothing when none did', () => {
    const original = { id: 1, name: 'Q', lines: [{ id: 4, product: 'X', quantity: 2, unit_price: 5, total: 10, version: 1 }] }
    const same = JSON.parse(JSON.stringify(original))
    expect(changedValues(quote, same, original, {}, app)).toEqual({})
    same.lines.push({ product: 'Y', quantity: 1 })
    expect(changedValues(quote, same, original, {}, app)).toEqual({ lines: [
      { id: 4, product: 'X', quantity: 2, unit_price: 5 }, { product: 'Y', quantity: 1, unit_price: null }] })
  })
})
