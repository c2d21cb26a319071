// Chart options keep each figure's point, so a click can list the records behind it.
import { describe, expect, it } from 'vitest'
import { funnelChart, heatmapChart, periodChart, pieChart, widgetPlacement } from '../src/logic/charts.js'

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

  it('places widgets by their layout on 12 columns', () => {
    expect(widgetPlacement({ layout: { x: 6, y: 1, w: 6, h: 2 } })).toEqual({ gridColumn: '7 / span 6', gridRow: '2 / span 2' })
    expect(widgetPlacement({ type: 'number' })).toEqual({ gridColumn: 'span 3' })
  })
})
