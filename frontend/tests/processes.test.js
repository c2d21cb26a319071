// Process items as the designer makes them, and what saving keeps of them.
import { describe, expect, it } from 'vitest'
import { cleanProcesses, flowLayout, newStageFlow, newStep, newWidget, prune } from '../src/logic/processes.js'

describe('processes', () => {
  it('a stage flow gets one stage per option of its field', () => {
    const field = { key: 'stage', options: [{ key: 'lead' }, { key: 'won' }] }
    const flow = newStageFlow({ stage_flows: [] }, { key: 'deal' }, field, { zh: '销售阶段', en: 'Sales stages' })
    expect(flow).toMatchObject({ key: 'sales_stages', entity: 'deal', field: 'stage', stages: [{ key: 'lead' }, { key: 'won' }] })
    expect(newStep({ steps: [] }, { zh: '第1步', en: 'Step 1' }).approver).toEqual({ type: 'manager_of', of: 'submitter', levels: 1 })
  })

  it('lays widgets out on 12 columns in their order', () => {
    const board = { widgets: [] }
    board.widgets.push(newWidget(board, 'number', { zh: '数字', en: 'Number' }, 'm'))
    board.widgets.push(newWidget(board, 'bar', { zh: '柱状图', en: 'Bar' }, 'm'))
    board.widgets.push(newWidget(board, 'line', { zh: '折线图', en: 'Line' }, 'm'))
    expect(flowLayout(board.widgets).map((w) => w.layout)).toEqual([
      { x: 0, y: 0, w: 3, h: 1 }, { x: 3, y: 0, w: 6, h: 2 }, { x: 0, y: 2, w: 6, h: 2 }])
  })

  it('saving drops what was left empty but keeps rules as written', () => {
    expect(prune({ title: { 'zh-CN': '', en: 'X' }, sla_hours: null, reason_field: '', entry: { '!!': { var: 'a' } }, options: {} }))
      .toEqual({ title: { 'zh-CN': 'X', en: 'X' }, entry: { '!!': { var: 'a' } } })
    expect(cleanProcesses({ stage_flows: [], metrics: [{ key: 'm', filter: null }], roles: [] })).toEqual({ metrics: [{ key: 'm' }] })
  })
})
