// Stage flows and kanban boards of an entity, as its app definition describes them.
// Pure functions over the definition: the components localize the title maps they return.

/** The stage flows that drive a field of `entityKey`. */
export function flowsOf(definition, entityKey) {
  return (definition?.stage_flows || []).filter((flow) => flow.entity === entityKey)
}

/** The flow whose stage field is `fieldKey`, or null. */
export function flowOfField(definition, entityKey, fieldKey) {
  return flowsOf(definition, entityKey).find((flow) => flow.field === fieldKey) || null
}

function optionTitle(field, key) {
  return (field?.options || []).find((option) => option.key === key)?.title || null
}

/** Columns of a board: the flow's stages in funnel order, else the field's options. */
export function boardColumns(field, flow) {
  if (flow) {
    return (flow.stages || []).map((stage) => ({
      key: stage.key,
      title: stage.title || optionTitle(field, stage.key) || stage.key,
      terminal: stage.terminal || null,
      probability: stage.probability ?? null,
      reasonField: stage.reason_field || null,
    }))
  }
  return (field?.options || []).map((option) => ({ key: option.key, title: option.title || option.key, terminal: null, probability: null, reasonField: null }))
}

/**
 * The kanban boards of an entity: one per kanban view grouped by a select field, and one
 * per stage flow no view already shows. Each: {key, title, field, flow, columns,
 * cardFields, filter}. Dragging a card across columns of a flow runs its transition;
 * across columns of a plain select field it changes the field.
 */
export function boardsOf(definition, entity) {
  if (!entity) return []
  const fields = Object.fromEntries((entity.fields || []).map((f) => [f.key, f]))
  const boards = []
  for (const view of entity.views || []) {
    const field = fields[view.group_by]
    if (view.type !== 'kanban' || !field || field.type !== 'select') continue
    const flow = flowOfField(definition, entity.key, field.key)
    boards.push({
      key: view.key, title: view.title || flow?.title || field.title, field: field.key, flow,
      columns: boardColumns(field, flow), cardFields: (view.columns || []).filter((key) => fields[key]),
      filter: view.filter ?? null,
    })
  }
  for (const flow of flowsOf(definition, entity.key)) {
    if (boards.some((board) => board.field === flow.field) || !fields[flow.field]) continue
    boards.push({
      key: flow.key, title: flow.title || fields[flow.field].title, field: flow.field, flow,
      columns: boardColumns(fields[flow.field], flow), cardFields: [], filter: null,
    })
  }
  return boards
}

/** The filter of one column: the board's own filter and "field is this stage". */
export function columnFilter(board, columnKey) {
  const own = { '==': [{ var: board.field }, columnKey] }
  return board.filter ? { and: [board.filter, own] } : own
}

/** Where a record stands in a flow: {index, stage, open stages, terminal stages}. */
export function stagePosition(flow, value) {
  const stages = flow?.stages || []
  const open = stages.filter((stage) => !stage.terminal)
  const terminal = stages.filter((stage) => stage.terminal)
  const stage = stages.find((s) => s.key === value) || null
  return { stage, index: open.findIndex((s) => s.key === value), open, terminal }
}
