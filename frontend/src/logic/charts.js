// ECharts options for the dashboard widgets, from the widget data the server computes.
// Every data item keeps its `point`, so a click on any bar, slice, stage or cell can list
// the records behind it. Pure functions: the component localizes and renders.

/** The grid cell of a widget: its `layout` {x, y, w, h} on 12 columns, else by type. */
export function widgetPlacement(widget) {
  const layout = widget.layout
  if (layout && Number.isInteger(layout.w)) {
    const style = { gridColumn: `${(layout.x ?? 0) + 1} / span ${Math.min(12, layout.w)}` }
    if (Number.isInteger(layout.y)) style.gridRow = `${layout.y + 1} / span ${layout.h || 1}`
    return style
  }
  return { gridColumn: `span ${widget.type === 'number' ? 3 : 6}` }
}

function seriesTitle(series) {
  return series.title || series.key
}

/** bar / line: one series per metric (or per group), buckets along the x axis. */
export function periodChart(type, data, { bucketLabel = (b) => b } = {}) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: (data.buckets || []).map(bucketLabel) },
    yAxis: { type: 'value' },
    series: (data.series || []).map((series) => ({
      name: seriesTitle(series),
      type,
      smooth: type === 'line',
      data: (series.points || []).map((p) => ({ value: p.value ?? 0, point: p.point })),
    })),
  }
}

/** pie: the first metric by the values of `group_by`. */
export function pieChart(data) {
  const series = (data.series || [])[0] || { points: [] }
  return {
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    legend: { type: 'scroll', bottom: 0 },
    series: [{
      name: seriesTitle(series), type: 'pie', radius: ['35%', '65%'], top: 0, bottom: 28,
      data: (series.points || []).map((p) => ({ name: p.label ?? String(p.group), value: p.value ?? 0, point: p.point })),
    }],
  }
}

/** funnel: records per stage (open stages in order), each a clickable layer. */
export function funnelChart(data) {
  const stages = data.stages || []
  return {
    tooltip: { trigger: 'item', formatter: '{b}: {c}' },
    series: [{
      type: 'funnel', sort: 'none', left: '10%', width: '80%', top: 8, bottom: 8, minSize: '20%', gap: 2,
      label: { show: true, position: 'inside', formatter: '{b} {c}' },
      data: stages.map((s) => ({ name: s.label ?? s.stage, value: s.count ?? 0, point: s.point })),
    }],
  }
}

/** heatmap: groups (people) × buckets (weeks), the metric or its achievement. */
export function heatmapChart(data, { bucketLabel = (b) => b } = {}) {
  const buckets = data.buckets || []
  const groups = data.groups || []
  const useAchievement = (data.cells || []).some((c) => c.target !== null && c.target !== undefined)
  const cells = (data.cells || []).map((cell) => {
    const value = useAchievement ? cell.achievement : cell.value
    return { value: [buckets.indexOf(cell.bucket), groups.findIndex((g) => g.group === cell.group), value ?? 0], point: cell.point }
  })
  const max = Math.max(1, ...cells.map((c) => c.value[2] || 0))
  return {
    tooltip: { position: 'top' },
    grid: { left: 8, right: 8, top: 8, bottom: 48, containLabel: true },
    xAxis: { type: 'category', data: buckets.map(bucketLabel), splitArea: { show: true } },
    yAxis: { type: 'category', data: groups.map((g) => g.label ?? String(g.group)), splitArea: { show: true } },
    visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 80 },
    series: [{ type: 'heatmap', data: cells, label: { show: true } }],
  }
}

/** punchcard: hour of day (x) × weekday (y; one band of seven rows per group), a dot per
 * cell sized by its value. `weekdayLabel(1..7)` names the days. */
export function punchcardChart(data, { weekdayLabel = (w) => String(w) } = {}) {
  const hours = data.hours || []
  const weekdays = data.weekdays || []
  const groups = (data.groups || []).length ? data.groups : [{ group: null, label: '' }]
  const grouped = Boolean(data.group_by)
  const rows = groups.flatMap((g) => weekdays.map((w) => ({ group: g.group, weekday: w,
    label: grouped ? `${g.label ?? String(g.group)} · ${weekdayLabel(w)}` : weekdayLabel(w) })))
  const rowOf = (cell) => rows.findIndex((r) => r.weekday === cell.weekday && (!grouped || r.group === cell.group))
  const cells = (data.cells || []).filter((c) => c.value).map((cell) => ({
    value: [hours.indexOf(cell.hour), rowOf(cell), cell.value], point: cell.point,
  }))
  const max = Math.max(1, ...cells.map((c) => c.value[2]))
  return {
    tooltip: { position: 'top', formatter: (p) => `${rows[p.value[1]]?.label} ${String(hours[p.value[0]]).padStart(2, '0')}:00 — ${p.value[2]}` },
    grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: hours.map((h) => String(h).padStart(2, '0')), boundaryGap: true, splitLine: { show: true } },
    yAxis: { type: 'category', data: rows.map((r) => r.label), inverse: true },
    series: [{ type: 'scatter', data: cells, symbolSize: (value) => 6 + 18 * Math.sqrt(value[2] / max) }],
  }
}
