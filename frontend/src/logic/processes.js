// The processes of an app definition as the designer edits them: stage flows, approval
// chains, SLA policies, metrics and dashboards. New items come with keys and titles in both
// languages; `cleanProcesses` drops what was left empty before the draft is saved.
import { generateKey } from './keys.js'

export const PROCESS_LISTS = ['stage_flows', 'approval_chains', 'sla_policies', 'automations', 'metrics', 'dashboards']
export const APPROVER_TYPES = ['manager_of', 'role', 'user', 'field']
export const AGGREGATES = ['count', 'distinct_count', 'sum', 'avg', 'min', 'max', 'median', 'ratio']
export const PERIODS = ['day', 'week', 'month', 'quarter', 'year']
export const WIDGET_TYPES = ['number', 'bar', 'line', 'pie', 'funnel', 'leaderboard', 'heatmap', 'punchcard', 'target']
export const SLA_STARTS = ['created', 'stage_entered', 'field_set']
export const TRIGGERS = ['created', 'updated', 'field_changed', 'stage_entered', 'stage_left', 'approval_decided', 'date_reached', 'no_activity', 'schedule']
const LOGIC_PROPERTIES = new Set(['entry', 'exit', 'when', 'condition', 'filter', 'stop', 'open'])

function keysOf(list) {
  return (list || []).map((item) => item.key)
}

/** A new item's key and title from `titles` ({zh, en}), unique in `list`. */
export function named(list, titles, prefix) {
  return { key: generateKey([titles.en, titles.zh], keysOf(list), prefix), title: { 'zh-CN': titles.zh, en: titles.en } }
}

/** A stage flow over a select field: one stage per option, the last ones won/lost by name. */
export function newStageFlow(definition, entity, field, titles) {
  const stages = (field.options || []).map((option) => ({ key: option.key, probability: null }))
  return { ...named(definition.stage_flows, titles, 'flow'), entity: entity.key, field: field.key, allow_back: true, allow_skip: false, auto_advance: false, stages }
}

export function newChain(definition, entity, titles) {
  return { ...named(definition.approval_chains, titles, 'chain'), entity: entity.key, trigger: 'submit', on_reject: 'submitter', lock_record: true, allow_self_approval: false, steps: [] }
}

export function newStep(chain, titles) {
  return { ...named(chain.steps, titles, 'step'), mode: 'any', approver: { type: 'manager_of', of: 'submitter', levels: 1 }, if_no_approver: 'fail' }
}

export function newSlaPolicy(definition, entity, titles) {
  return { ...named(definition.sla_policies, titles, 'sla'), entity: entity.key, start: 'created', minutes: 1440, working_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' }, escalations: [] }
}

export function newAutomation(definition, entity, titles) {
  return { ...named(definition.automations, titles, 'automation'), entity: entity.key, enabled: true, trigger: { type: 'created' }, actions: [] }
}

export function newMetric(definition, entity, titles) {
  return { ...named(definition.metrics, titles, 'metric'), entity: entity.key, aggregate: 'count', time_field: 'created_at', period: 'month' }
}

export function newDashboard(definition, titles) {
  return { ...named(definition.dashboards, titles, 'dashboard'), widgets: [] }
}

/** A widget dropped from the palette: a full row for charts, a quarter for numbers. */
export function newWidget(dashboard, type, titles, metric) {
  const wide = !['number'].includes(type)
  const widget = { ...named(dashboard.widgets, titles, type), type, metrics: metric ? [metric] : [], options: {}, layout: { w: wide ? 6 : 3, h: wide ? 2 : 1 } }
  if (type === 'funnel' || type === 'pie') widget.options.window = 'all'
  return widget
}

/** Widgets laid out in their list order on 12 columns: x and y follow from the widths. */
export function flowLayout(widgets) {
  let x = 0
  let y = 0
  let rowHeight = 1
  for (const widget of widgets) {
    const w = Math.min(12, Math.max(1, widget.layout?.w || 6))
    const h = Math.max(1, widget.layout?.h || 1)
    if (x + w > 12) {
      x = 0
      y += rowHeight
      rowHeight = 1
    }
    widget.layout = { x, y, w, h }
    x += w
    rowHeight = Math.max(rowHeight, h)
  }
  return widgets
}

function emptyMap(value) {
  return value && typeof value === 'object' && !Array.isArray(value) && ('zh-CN' in value || 'en' in value) && !value['zh-CN'] && !value.en
}

/** Drop null, empty strings, empty objects and empty language maps, recursively (rules kept as they are). */
export function prune(node) {
  if (Array.isArray(node)) return node.map(prune)
  if (!node || typeof node !== 'object') return node
  for (const [name, value] of Object.entries(node)) {
    if (value === null || value === undefined || value === '' || emptyMap(value)) {
      delete node[name]
    } else if (LOGIC_PROPERTIES.has(name)) {
      continue
    } else if (typeof value === 'object') {
      node[name] = prune(value)
      if (!Array.isArray(value) && !Object.keys(value).length) delete node[name]
    }
  }
  if (node.title && !node.title['zh-CN'] && node.title.en) node.title['zh-CN'] = node.title.en
  return node
}

/** The process lists of a definition, cleaned for saving (in place); empty lists are
 * left out, so that opening an editor does not count as a change. */
export function cleanProcesses(definition) {
  for (const name of [...PROCESS_LISTS, 'roles']) {
    if (!Array.isArray(definition[name])) continue
    if (definition[name].length) definition[name] = definition[name].map(prune)
    else delete definition[name]
  }
  return definition
}
