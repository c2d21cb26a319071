// Chart options keep each figure's point, so a click can list the records behind it.
import { describe, expect, it } from 'vitest'
import { funnelChart, heatmapChart, periodChart, pieChart, punchcardChart, widgetPlacement } from '../src/logic/charts.js'

describe('chart options', () => {
  it('bar and line: one series per metric over the buckets', () => {
    const option = periodChart('bar', { buckets: ['2026-10-01', '2026-11-01'], series: [
      { key: 'n', title: '商机数', points: [{ value: 1, point: { series: 'n', bucket: '2026-10-01' } }, { value: null, point: { series: 'n', bucket: '2026-11-01' } }] }] },
    { bucketLabel: (b) => b.slice(0, 7) })
    expect(option.xAxis.data).toEqual(['2026-10', '2026-11'])
    expect(option.series[0]).toMatchObject({ name: '商机数', type: 'bar' })
    expect(option.series[0].data).toEqual([{ value: 1, point: { series: 'n', bucket: '2026-10-01' } }, { value: 0, point: { series: 'n', bucket: '2026-11-01' } }])
  })

  it('pie, funnel and heatmap items carry their points', () => {
    expect(pieChart({ series: [{ key: 'n', points: [{ group: 'east', label: '华东', value: 2, point: { group: 'east' } }] }] }).series[0].data)
      .toEqual([{ name: '华东', value: 2, point: { group: 'east' } }])
    expect(funnelChart({ stages: [{ stage: 'lead', label: '线索', count: 3, point: { group: 'lead' } }] }).series[0].data)
      .toEqual([{ name: '线索', value: 3, point: { group: 'lead' } }])
    const heat = heatmapChart({ buckets: ['a', 'b'], groups: [{ group: 1, label: '王' }], cells: [{ bucket: 'b', group: 1, value: 4, target: null, point: { bucket: 'b', group: 1 } }] })
    expect(heat.series[0].data).toEqual([{ value: [1, 0, 4], point: { bucket: 'b', group: 1 } }])
    expect(heat.visualMap.max).toBe(4)
  })

  it('punchcard: a dot per filled hour × weekday cell, a band of weekdays per group', () => {
    const cell = (group, weekday, hour, value) => ({ group, weekday, hour, value, point: { series: 'n', weekday, hour, group } })
    const option = punchcardChart({ group_by: 'owner', hours: [0, 1, 2], weekdays: [1, 2],
      groups: [{ group: 7, label: '王' }, { group: 8, label: '李' }],
      cells: [cell(7, 1, 2, 3), cell(7, 2, 0, 0), cell(8, 2, 1, 1)] }, { weekdayLabel: (w) => ['', '一', '二'][w] })
    expect(option.yAxis.data).toEqual(['王 · 一', '王 · 二', '李 · 一', '李 · 二'])
    expect(option.xAxis.data).toEqual(['00', '01', '02'])
    expect(option.series[0].data).toEqual([
      { value: [2, 0, 3], point: { series: 'n', weekday: 1, hour: 2, group: 7 } },
      { value: [1, 3, 1], point: { series: 'n', weekday: 2, hour: 1, group: 8 } }])
    const single = punchcardChart({ hours: [9], weekdays: [3], groups: [], cells: [{ weekday: 3, hour: 9, value: 2, point: { weekday: 3, hour: 9 } }] })
    expect(single.yAxis.data).toEqual(['3'])
    expect(single.series[0].data[0].value).toEqual([0, 0, 2])
  })

  it('places widgets by their layout on 12 columns', () => {
    expect(widgetPlacement({ layout: { x: 6, y: 1, w: 6, h: 2 } })).toEqual({ gridColumn: '7 / span 6', gridRow: '2 / span 2' })
    expect(widgetPlacement({ type: 'number' })).toEqual({ gridColumn: 'span 3' })
  })
})
